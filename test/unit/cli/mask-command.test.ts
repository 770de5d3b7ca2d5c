import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/mask-command.js';
import { registerMaskCommand, runMaskCommand } from '../../../src/cli/mask-command.js';
import { registerPolicyValidateCommand, runPolicyValidateCommand } from '../../../src/cli/policy-validate-command.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCHEMA = join(ROOT, 'examples/customers-cdc.avsc');
const POLICY = join(ROOT, 'policies/default.yaml');
const RECORDS = join(ROOT, 'examples/customers.jsonl');
const schemaJson = JSON.parse(readFileSync(SCHEMA, 'utf8')) as avro.Schema;
const type = avro.Type.forSchema(schemaJson);
const dir = mkdtempSync(join(tmpdir(), 'masker-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Captured { io: CliIo; out: () => string; err: () => string }

function capture(stdin: Readable = Readable.from([]), env: NodeJS.ProcessEnv = { MASKER_SECRET: 'cli-test-secret-0123456789' }): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => outChunks.push(c));
  stderr.on('data', (c: Buffer) => errChunks.push(c));
  return {
    io: { stdout, stderr, stdin, env },
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
  };
}

function writeFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readContainer(path: string): Promise<{ records: unknown[]; schema: string; codec: string }> {
  const records: unknown[] = [];
  let schema = '';
  let codec = '';
  const decoder = avro.createFileDecoder(path);
  decoder.on('metadata', (_t: unknown, c: string, header: { meta: Record<string, Buffer> }) => {
    codec = c;
    schema = header.meta['avro.schema']?.toString() ?? '';
  });
  for await (const r of decoder as AsyncIterable<unknown>) records.push(r);
  return { records, schema, codec };
}

describe('masker mask', () => {
  it('masks Avro JSON-encoding lines from stdin to stdout', async () => {
    const c = capture(Readable.from([readFileSync(RECORDS)]));
    expect(await runMaskCommand({ schema: SCHEMA, policy: POLICY }, c.io)).toBe(0);
    const lines = c.out().trim().split('\n');
    expect(lines).toHaveLength(4);
    const inputs = readFileSync(RECORDS, 'utf8').trim().split('\n').map((l) => type.fromString(l) as Record<string, unknown>);
    lines.forEach((line, i) => {
      const masked = type.fromString(line) as Record<string, unknown>;
      expect(masked['op']).toBe(inputs[i]?.['op']);
      expect(masked['source']).toEqual(inputs[i]?.['source']);
    });
    for (const secret of ['sally.thomas@acme.com', 'Sally Thomas', '219-09-9999', '4111 1111 1111 1111', 'sally.t@gmail.com', '221 Mission Street', 'gbailey@foobar.com']) {
      expect(c.out()).not.toContain(secret);
    }
    expect(c.err()).toContain('masked 4 record(s)');
  });

  it('masks an object container file into a container file with the same codec and tagged schema', async () => {
    const input = join(dir, 'in.avro');
    const output = join(dir, 'out.avro');
    const encoder = new avro.streams.BlockEncoder(schemaJson, { codec: 'deflate' });
    const file = createWriteStream(input);
    encoder.pipe(file);
    for (const line of readFileSync(RECORDS, 'utf8').trim().split('\n')) encoder.write(type.fromString(line));
    encoder.end();
    await finished(file);
    const c = capture();
    expect(await runMaskCommand({ schema: SCHEMA, policy: POLICY, in: input, out: output }, c.io)).toBe(0);
    const result = await readContainer(output);
    expect(result.records).toHaveLength(4);
    expect(result.codec).toBe('deflate');
    expect(result.schema).toContain('confluent:tags');
    expect(readFileSync(output).includes(Buffer.from('sally.thomas@acme.com'))).toBe(false);
  });

  it('stops at the first record it cannot mask, naming the line and code, writing nothing of it', async () => {
    const schema = writeFile('iso.avsc', JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'day', type: 'string', 'confluent:tags': ['PII'] }] }));
    const policy = writeFile('iso.yaml', 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: iso\nrules:\n  - { name: days, match: { tags: [PII] }, action: date-shift }\n');
    const lines = ['{"day":"2024-01-01"}', '{"day":"2024-02-01"}', '{"day":"sometime-soon"}', '{"day":"2024-03-01"}'].join('\n');
    const c = capture(Readable.from([lines]));
    expect(await runMaskCommand({ schema, policy }, c.io)).toBe(1);
    expect(c.out().trim().split('\n')).toHaveLength(2);
    expect(c.err()).toMatch(/masker: MASKER_ACTION: line 3: day \(rule days\)/);
    expect(c.err()).not.toContain('sometime-soon');
  });

  it('writes every container record before a failing one, and none of it', async () => {
    const isoSchema = { type: 'record', name: 'R', fields: [{ name: 'day', type: 'string', 'confluent:tags': ['PII'] }] } as unknown as avro.Schema;
    const schema = writeFile('iso2.avsc', JSON.stringify(isoSchema));
    const policy = writeFile('iso2.yaml', 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: iso\nrules:\n  - { name: days, match: { tags: [PII] }, action: date-shift }\n');
    const input = join(dir, 'iso-in.avro');
    const output = join(dir, 'iso-out.avro');
    const encoder = new avro.streams.BlockEncoder(isoSchema);
    const file = createWriteStream(input);
    encoder.pipe(file);
    for (const day of ['2024-01-01', '2024-02-01', 'never-a-date']) encoder.write({ day });
    encoder.end();
    await finished(file);
    const c = capture();
    expect(await runMaskCommand({ schema, policy, in: input, out: output }, c.io)).toBe(1);
    expect(c.err()).toMatch(/MASKER_ACTION: record 3: day \(rule days\)/);
    const result = await readContainer(output);
    expect(result.records).toHaveLength(2);
    expect(readFileSync(output).includes(Buffer.from('never-a-date'))).toBe(false);
  });

  it('refuses a container block with a corrupted array count before avsc decodes it (which would run out of heap)', async () => {
    const listSchema = { type: 'record', name: 'L', fields: [{ name: 'id', type: 'long' }, { name: 'emails', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] }] } as unknown as avro.Schema;
    const schema = writeFile('list.avsc', JSON.stringify(listSchema));
    const policy = writeFile('list.yaml', 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: list\nrules:\n  - { name: r, match: { tags: [PII] }, action: redact }\n');
    const input = join(dir, 'list-in.avro');
    const output = join(dir, 'list-out.avro');
    const encoder = new avro.streams.BlockEncoder(listSchema, { blockSize: 1 }); // one record per block
    const file = createWriteStream(input);
    encoder.pipe(file);
    encoder.write({ id: 1, emails: ['jane@example.org'] });
    encoder.write({ id: 2, emails: ['MARKERMARKER'] });
    encoder.end();
    await finished(file);
    // The second record's array (count 1, "MARKERMARKER", end) becomes, in the same 15 bytes, a block
    // claiming 2^29 strings followed by five one-letter strings.
    const bytes = readFileSync(input);
    const original = Buffer.concat([Buffer.from([0x02, 0x18]), Buffer.from('MARKERMARKER'), Buffer.from([0x00])]);
    const at = bytes.indexOf(original);
    expect(at).toBeGreaterThan(0);
    Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x02, 0x41, 0x02, 0x41, 0x02, 0x41, 0x02, 0x41, 0x02, 0x41]).copy(bytes, at);
    writeFileSync(input, bytes);
    const c = capture();
    expect(await runMaskCommand({ schema, policy, in: input, out: output }, c.io)).toBe(1);
    // avsc decompresses the blocks of a chunk before it emits their records: the refusal can come first.
    expect(c.err()).toMatch(/MASKER_DECODE: a block at or after record [12]: Avro body does not decode at emails/);
    const written = readFileSync(output);
    expect(written.includes(Buffer.from('jane@example.org'))).toBe(false);
    expect(written.includes(Buffer.from('MARKERMARKER'))).toBe(false);
  });

  it('reports a line that is not a record of the schema without echoing it', async () => {
    const c = capture(Readable.from(['{"before":null,"after":null,"op":"c","oops-secret-value":1}\n']));
    expect(await runMaskCommand({ schema: SCHEMA, policy: POLICY }, c.io)).toBe(2);
    expect(c.err()).toContain('MASKER_INPUT: line 1');
    expect(c.err()).not.toContain('oops-secret-value');
  });

  it('refuses to run without a key', async () => {
    const c = capture(Readable.from(['']), {});
    expect(await runMaskCommand({ schema: SCHEMA, policy: POLICY }, c.io)).toBe(2);
    expect(c.err()).toContain('MASKER_SECRET');
  });

  it('is registered with commander', async () => {
    const c = capture(Readable.from([readFileSync(RECORDS)]));
    const program = new Command('masker').exitOverride();
    registerMaskCommand(program, c.io);
    await program.parseAsync(['mask', '--schema', SCHEMA, '--policy', POLICY, '--envelope', 'debezium'], { from: 'user' });
    expect(c.out().trim().split('\n')).toHaveLength(4);
  });
});

describe('masker policy validate', () => {
  it('accepts the default policy for the sample schema', () => {
    const c = capture();
    expect(runPolicyValidateCommand(POLICY, { schema: SCHEMA }, c.io)).toBe(0);
    expect(c.out()).toMatch(/valid for .*customers-cdc\.avsc \(envelope debezium\): 0 error\(s\), 0 warning\(s\)/);
  });

  it('reports every strict-validation issue with its path', () => {
    const file = writeFile('bad.yaml', [
      'apiVersion: masker/v1', 'kind: MaskingPolicy', 'name: bad', 'extra: 1', 'rules:',
      '  - { name: a, match: { tags: [PII] }, action: mask, params: { keepFrist: 2 } }',
      '  - { name: b, match: { tags: [PII] }, action: vanish }',
    ].join('\n'));
    const c = capture();
    expect(runPolicyValidateCommand(file, {}, c.io)).toBe(2);
    expect(c.out()).toContain('error: extra: unknown key');
    expect(c.out()).toContain('error: rules[0].params.keepFrist: unknown key');
    expect(c.out()).toContain('error: rules[1].action: unknown action');
  });

  it('reports plan errors and rules that can never match the schema', () => {
    const file = writeFile('plan.yaml', [
      'apiVersion: masker/v1', 'kind: MaskingPolicy', 'name: plan', 'rules:',
      '  - { name: dob, match: { tags: [DOB] }, action: mask }',
      '  - { name: passports, match: { path: "**.passport" }, action: redact }',
    ].join('\n'));
    const c = capture();
    expect(runPolicyValidateCommand(file, { schema: SCHEMA }, c.io)).toBe(2);
    expect(c.out()).toContain('error: field before.birth_date: rule "dob" (mask) cannot apply');
    expect(c.out()).toContain('warning: rules[1] "passports" matches no maskable field');
  });

  it('joins an existing policy command', async () => {
    const c = capture();
    const program = new Command('masker').exitOverride();
    program.command('policy').description('policy operations');
    registerPolicyValidateCommand(program, c.io);
    await program.parseAsync(['policy', 'validate', POLICY], { from: 'user' });
    expect(program.commands.filter((cmd) => cmd.name() === 'policy')).toHaveLength(1);
    expect(c.out()).toContain('valid (15 rule(s))');
  });
});
