import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { deflateRawSync } from 'node:zlib';
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

const long = avro.Type.forSchema('long');

/**
 * A container built byte by byte (avsc's encoder decides its own block boundaries): the header, then one
 * block per entry of `blocks`, avsc encoding each record. Returns the bytes and where each block starts.
 */
function buildContainer(codec: 'null' | 'deflate', blocks: readonly (readonly unknown[])[], schema: unknown = schemaJson): { bytes: Buffer; offsets: number[] } {
  const sync = Buffer.from('0123456789abcdef');
  const entry = (key: string, value: Buffer): Buffer[] => [long.toBuffer(key.length), Buffer.from(key), long.toBuffer(value.length), value];
  const parts: Buffer[] = [
    Buffer.from('Obj\x01', 'latin1'), long.toBuffer(2),
    ...entry('avro.schema', Buffer.from(JSON.stringify(schema))), ...entry('avro.codec', Buffer.from(codec)),
    long.toBuffer(0), sync,
  ];
  const offsets: number[] = [];
  let at = parts.reduce((n, p) => n + p.length, 0);
  for (const records of blocks) {
    offsets.push(at);
    const data = Buffer.concat(records.map((r) => avro.Type.forSchema(schema as avro.Schema).toBuffer(r)));
    const stored = codec === 'deflate' ? deflateRawSync(data) : data;
    const block = [long.toBuffer(records.length), long.toBuffer(stored.length), stored, sync];
    parts.push(...block);
    at += block.reduce((n, p) => n + p.length, 0);
  }
  return { bytes: Buffer.concat(parts), offsets };
}

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
    expect(c.err()).toMatch(/MASKER_ACTION: record 3 \(block 1 at byte \d+\): day \(rule days\)/);
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
    // One record per block (avsc's encoder puts the first two records in one block whatever its blockSize).
    writeFileSync(input, buildContainer('null', [[{ id: 1, emails: ['jane@example.org'] }], [{ id: 2, emails: ['MARKERMARKER'] }]], listSchema).bytes);
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
    // The first block's record is masked and written; the second block is refused whole.
    const block2 = at - 3; // before the record's id (1 byte): the block's record count and byte size (1 byte each)
    expect(c.err()).toContain(`MASKER_DECODE: block 2 at byte ${block2}: record 1 of 1: Avro body does not decode at emails`);
    const result = await readContainer(output);
    expect(result.records).toEqual([{ id: 1, emails: ['[REDACTED]'] }]);
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

describe('masker mask: container files', () => {
  const lines = readFileSync(RECORDS, 'utf8').trim().split('\n');
  const secrets = ['sally.thomas@acme.com', 'Sally Thomas', '219-09-9999', 'gbailey@foobar.com'];
  /** The sample, one record per block. */
  const perBlock = (codec: 'null' | 'deflate'): { bytes: Buffer; offsets: number[] } => buildContainer(codec, lines.map((l) => [type.fromString(l)]));

  /** The masked records of the sample through the JSON-lines path (same key): what every container run must give. */
  async function maskedByLines(): Promise<unknown[]> {
    const c = capture(Readable.from([readFileSync(RECORDS)]));
    expect(await runMaskCommand({ schema: SCHEMA, policy: POLICY }, c.io)).toBe(0);
    return c.out().trim().split('\n').map((l) => type.fromString(l));
  }

  async function run(bytes: Buffer, name: string): Promise<{ code: number; err: string; output: Buffer; records: () => Promise<unknown[]> }> {
    const input = join(dir, `${name}-in.avro`);
    const output = join(dir, `${name}-out.avro`);
    writeFileSync(input, bytes);
    const c = capture();
    const code = await runMaskCommand({ schema: SCHEMA, policy: POLICY, in: input, out: output }, c.io);
    return { code, err: c.err(), output: readFileSync(output), records: async () => (await readContainer(output)).records };
  }

  for (const codec of ['null', 'deflate'] as const) {
    it(`masks a ${codec} file of several blocks exactly as the JSON-lines path masks its records`, async () => {
      const { bytes } = buildContainer(codec, [lines.slice(0, 3).map((l) => type.fromString(l)), [], lines.slice(3).map((l) => type.fromString(l))]);
      if (codec === 'deflate') { // avsc reads the input too (its decoder stalls on an empty block stored as is)
        writeFileSync(join(dir, 'rt-check.avro'), bytes);
        expect((await readContainer(join(dir, 'rt-check.avro'))).records).toHaveLength(4);
      }
      const { code, err, output } = await run(bytes, `rt-${codec}`);
      expect(code).toBe(0);
      expect(err).toContain('masked 4 record(s)');
      const result = await readContainer(join(dir, `rt-${codec}-out.avro`));
      expect(result.codec).toBe(codec);
      expect(JSON.parse(result.schema)).toEqual(schemaJson);
      expect(result.records).toEqual(await maskedByLines());
      for (const secret of secrets) expect(output.includes(Buffer.from(secret))).toBe(false);
      // A fresh sync marker: the masked file cannot be matched to its source by it.
      expect(output.includes(Buffer.from('0123456789abcdef'))).toBe(false);
    });
  }

  it('reads a container from stdin in small chunks and writes it to stdout', async () => {
    const { bytes } = perBlock('deflate');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
    const stdout = new PassThrough();
    const out: Buffer[] = [];
    stdout.on('data', (b: Buffer) => out.push(b));
    const c = capture(Readable.from(chunks));
    expect(await runMaskCommand({ schema: SCHEMA, policy: POLICY }, { ...c.io, stdout })).toBe(0);
    writeFileSync(join(dir, 'stdout.avro'), Buffer.concat(out));
    expect((await readContainer(join(dir, 'stdout.avro'))).records).toEqual(await maskedByLines());
  });

  it('writes a valid empty container for a file of no records (avsc wrote an empty output file)', async () => {
    const { code, err } = await run(buildContainer('deflate', []).bytes, 'empty');
    expect(code).toBe(0);
    expect(err).toContain('masked 0 record(s)');
    const result = await readContainer(join(dir, 'empty-out.avro'));
    expect(result.records).toEqual([]);
    expect(result.codec).toBe('deflate');
    expect(result.schema).toContain('confluent:tags');
  });

  it('a corrupt block in the middle: the blocks before it are written, the error names the block and its offset', async () => {
    const { bytes, offsets } = perBlock('deflate');
    bytes[offsets[3]! - 3]! ^= 0x01; // block 3's sync marker
    const { code, err, output, records } = await run(bytes, 'mid');
    expect(code).toBe(1);
    expect(err).toContain(`masker: MASKER_DECODE: block 3 at byte ${offsets[2]}: the sync marker after the block differs from the header's`);
    expect(await records()).toEqual((await maskedByLines()).slice(0, 2));
    for (const secret of secrets) expect(output.includes(Buffer.from(secret))).toBe(false);
  });

  it('a block whose records do not frame: the earlier blocks are written, nothing of it', async () => {
    const { bytes, offsets } = perBlock('null');
    // Block 2's record count (1) becomes 2: its bytes hold one record and the second one is missing.
    expect(bytes[offsets[1]!]).toBe(0x02);
    bytes[offsets[1]!] = 0x04;
    const { code, err, records } = await run(bytes, 'frame');
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`MASKER_DECODE: block 2 at byte ${offsets[1]}: record 2 of 2: Avro body does not decode at `));
    expect(await records()).toEqual((await maskedByLines()).slice(0, 1));
  });

  it('a truncated file fails naming its last block, after writing the whole blocks (avsc reported success)', async () => {
    const { bytes, offsets } = perBlock('deflate');
    for (const cut of [1, 20, 100]) {
      const { code, err, records } = await run(bytes.subarray(0, bytes.length - cut), 'trunc');
      expect(code).toBe(1);
      expect(err).toMatch(new RegExp(`MASKER_DECODE: block 4 at byte ${offsets[3]}: (the file ends inside the block's sync marker|a byte size larger than the \\d+ bytes left)`));
      expect(await records()).toEqual((await maskedByLines()).slice(0, 3));
    }
  });

  it('a header whose metadata count is negative fails (avsc reported success with 0 records and an empty file)', async () => {
    const { bytes } = perBlock('null');
    bytes[4] = 0x01; // the metadata map's first count: 2 → -1, then a byte size taken from the next bytes
    const { code, err } = await run(bytes, 'neg');
    expect(code).toBe(1);
    expect(err).toMatch(/masker: MASKER_DECODE: container header, at byte \d+: /);
    expect(err).not.toContain('masked 0 record(s)');
  });

  it('a header whose metadata count is huge fails at once (avsc spun at 100% CPU)', async () => {
    const { bytes } = perBlock('null');
    const huge = Buffer.concat([bytes.subarray(0, 4), Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]), bytes.subarray(5)]);
    const { code, err } = await run(huge, 'huge');
    expect(code).toBe(1);
    expect(err).toContain('masker: MASKER_DECODE: container header, at byte 4: a metadata block count larger than the bytes left can hold');
  });

  it('refuses a snappy file with MASKER_INPUT naming the codec', async () => {
    const encoder = new avro.streams.BlockEncoder(schemaJson, { codec: 'snappy', codecs: { snappy: (data: Buffer, cb: (err: Error | null, out?: Buffer) => void) => cb(null, data) } });
    const file = createWriteStream(join(dir, 'snappy.avro'));
    encoder.pipe(file);
    encoder.write(type.fromString(lines[0]!));
    encoder.end();
    await finished(file);
    const { code, err } = await run(readFileSync(join(dir, 'snappy.avro')), 'snappy');
    expect(code).toBe(2);
    expect(err).toContain('masker: MASKER_INPUT: the container file uses the "snappy" codec, which masker mask does not read (supported: null, deflate)');
  });

  it('refuses a file written with another schema than --schema', async () => {
    const other = { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'string' }] } as unknown as avro.Schema;
    const encoder = new avro.streams.BlockEncoder(other);
    const file = createWriteStream(join(dir, 'other.avro'));
    encoder.pipe(file);
    encoder.write({ x: 'value-not-shown' });
    encoder.end();
    await finished(file);
    const { code, err } = await run(readFileSync(join(dir, 'other.avro')), 'other');
    expect(code).toBe(2);
    expect(err).toContain('masker: MASKER_INPUT: the container file was written with a different schema than --schema');
    expect(err).not.toContain('value-not-shown');
  });

  it('accepts a file whose schema differs from --schema only in attributes (no tags), and writes --schema', async () => {
    const untagged = JSON.parse(JSON.stringify(schemaJson, (key: string, value: unknown) => (key === 'confluent:tags' || key === 'connect.name' ? undefined : value))) as unknown;
    const { bytes } = buildContainer('null', [lines.map((l) => type.fromString(l))], untagged);
    expect(bytes.includes(Buffer.from('confluent:tags'))).toBe(false);
    const { code, records } = await run(bytes, 'untagged');
    expect(code).toBe(0);
    expect(await records()).toEqual(await maskedByLines());
    expect((await readContainer(join(dir, 'untagged-out.avro'))).schema).toContain('confluent:tags');
  });

  it('a header avro.schema that is not a schema is MASKER_DECODE', async () => {
    const { bytes } = buildContainer('null', [], { type: 'recrod', name: 'X', fields: [] });
    const { code, err } = await run(bytes, 'notschema');
    expect(code).toBe(1);
    expect(err).toContain('masker: MASKER_DECODE: container header: its avro.schema is not a valid Avro schema');
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
