import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import avro from 'avsc';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/mask-command.js';
import { registerScanCommand, runScanCommand, type ScanCommandOptions } from '../../../src/cli/scan-command.js';
import { sampleRanges } from '../../../src/cli/scan-sampling.js';
import { parsePolicy } from '../../../src/masking/index.js';

const dir = mkdtempSync(join(tmpdir(), 'masker-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Distinctive planted values: none may ever be printed, in any mode.
const PLANTED = ['zq.planted.alpha@example.org', 'zq.planted.beta@example.net', '+1 415-555-0177', '4556 7375 8689 9855', 'Quincy Zebulon'];

const schemaJson = {
  type: 'record',
  name: 'Order',
  namespace: 'scan.cli',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'comment', type: ['null', 'string'], default: null },
    { name: 'extra', type: { type: 'map', values: 'string' } },
    { name: 'customer_name', type: 'string' },
    { name: 'tier', type: 'string' },
  ],
};
const type = avro.Type.forSchema(schemaJson as avro.Schema);

function line(i: number): string {
  return type.toString({
    id: i,
    email: PLANTED[0],
    comment: i % 2 === 0 ? `call ${PLANTED[2]}, card ${PLANTED[3]}` : null,
    extra: { contact: PLANTED[1], channel: 'web' },
    customer_name: PLANTED[4],
    tier: 'gold',
  });
}

function writeFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SCHEMA = writeFile('orders.avsc', JSON.stringify(schemaJson));
const RECORDS = writeFile('orders.jsonl', `${Array.from({ length: 6 }, (_, i) => line(i)).join('\n')}\n`);
const COVERING_POLICY = writeFile('covering.yaml', [
  'apiVersion: masker/v1',
  'kind: MaskingPolicy',
  'name: covering',
  'rules:',
  '  - { name: comment, match: { path: comment }, action: scrub }',
  '  - { name: extra, match: { path: extra }, action: redact }',
  '  - { name: names, match: { name: ".*_name" }, action: pseudonymize, params: { format: name } }',
  '',
].join('\n'));

interface Captured { io: CliIo; out: () => string; err: () => string }

function capture(stdin: Readable = Readable.from([]), env: NodeJS.ProcessEnv = {}): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (c: Buffer) => o.push(c));
  stderr.on('data', (c: Buffer) => e.push(c));
  return { io: { stdout, stderr, stdin, env }, out: () => Buffer.concat(o).toString('utf8'), err: () => Buffer.concat(e).toString('utf8') };
}

async function scan(options: ScanCommandOptions, stdin?: Readable): Promise<{ code: number; out: string; err: string }> {
  const c = capture(stdin);
  const code = await runScanCommand({ routes: join(dir, 'no-routes'), policies: join(dir, 'no-policies'), ...options }, c.io);
  const result = { code, out: c.out(), err: c.err() };
  for (const v of PLANTED) {
    expect(result.out).not.toContain(v);
    expect(result.err).not.toContain(v);
  }
  return result;
}

interface JsonField { path: string; verdict: string; coverage: { by: string }; hits: { values: number; byDetector: Record<string, number> }; nameHints: string[] }
interface JsonReport { outcome: string; exitCode: number; fields: JsonField[]; records: { read: number; decoded: number; failed: number }; failures: { code: string; count: number; where: string[] }[]; suggestion?: { policy?: { doc: unknown }; tags?: { json: unknown } } }

const field = (r: JsonReport, path: string): JsonField | undefined => r.fields.find((f) => f.path === path);

describe('masker scan (offline)', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('reports uncovered PII per field and exits 1, printing no sampled value', async () => {
    const r = await scan({ schema: SCHEMA, in: RECORDS });
    expect(r.code).toBe(1);
    expect(r.out).toContain('6 record(s) read, 6 decoded');
    expect(r.out).toMatch(/comment\s+string\?\s+-\s+-\s+3\s+credit-card 3, phone 3 of 3 \(in text\)\s+-\s+PII NOT COVERED/);
    expect(r.out).toMatch(/extra\{\}\s+string\s+-\s+-\s+12\s+email 6 of 12\s+-\s+PII NOT COVERED/);
    expect(r.out).toMatch(/customer_name\s+string\s+-\s+-\s+6\s+none of 6\s+NAME\s+PII NOT COVERED/);
    expect(r.out).toMatch(/email\s+string\s+PII,EMAIL\s+tags \(redact\)/);
    expect(r.out).toMatch(/tier\s+.*clean/);
    expect(r.out).toContain('6 field(s): 3 with PII no rule or tag covers, 1 covered, 2 clean');
  });

  it('--json prints one JSON report with verdicts, hit counts and the exit code', async () => {
    const r = await scan({ schema: SCHEMA, in: RECORDS, json: true });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as JsonReport;
    expect(report).toMatchObject({ outcome: 'pii-not-covered', exitCode: 1, records: { read: 6, decoded: 6, failed: 0 } });
    expect(field(report, 'comment')).toMatchObject({ verdict: 'pii-not-covered', hits: { values: 3, byDetector: { 'credit-card': 3, phone: 3 } } });
    expect(field(report, 'extra{}')).toMatchObject({ verdict: 'pii-not-covered', hits: { values: 6, byDetector: { email: 6 } } });
    expect(field(report, 'customer_name')).toMatchObject({ verdict: 'pii-not-covered', nameHints: ['NAME'] });
    expect(field(report, 'email')).toMatchObject({ verdict: 'covered', coverage: { by: 'tags' } });
    expect(r.err).toBe('');
  });

  it('exits 0 when the policy covers every field with PII; reads stdin without --in', async () => {
    const r = await scan({ schema: SCHEMA, policy: COVERING_POLICY }, Readable.from([`${line(0)}\n${line(1)}\n`]));
    expect(r.code).toBe(0);
    expect(r.out).toContain('policy: covering (file ');
    expect(r.out).toMatch(/comment\s+.*rule comment \(scrub\).*covered/);
    expect(r.out).toContain('0 with PII no rule or tag covers');
  });

  it('--suggest policy prints a valid policy on stdout (report on stderr) that covers what was missing', async () => {
    const r = await scan({ schema: SCHEMA, in: RECORDS, suggest: 'policy' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('PII NOT COVERED');
    const policy = parsePolicy(parseYaml(r.out), 'suggestion');
    expect(policy.rules.map((x) => [x.match.path?.[0], x.action])).toEqual([
      ['comment', 'scrub'],
      ['extra{}', 'scrub'],
      ['customer_name', 'pseudonymize'],
    ]);
    expect(r.out).toContain('# masker scan --suggest policy: 3 rule(s)');
    const again = await scan({ schema: SCHEMA, in: RECORDS, policy: writeFile('suggested.yaml', r.out) });
    expect(again.code).toBe(0);
  });

  it('--suggest policy keeps the base policy\'s rules first; --json carries the suggestion', async () => {
    const base = writeFile('base.yaml', 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: base\nrules:\n  - { name: comment, match: { path: comment }, action: scrub }\n');
    const r = await scan({ schema: SCHEMA, in: RECORDS, suggest: 'policy', policy: base, json: true });
    const report = JSON.parse(r.out) as JsonReport;
    const policy = parsePolicy(report.suggestion?.policy?.doc, 'suggestion');
    expect(policy.name).toBe('base');
    expect(policy.rules.map((x) => x.name)).toEqual(['comment', 'scan-extra', 'scan-customer-name']);
  });

  it('--suggest tags prints the schema with confluent:tags on the uncovered fields', async () => {
    const r = await scan({ schema: SCHEMA, in: RECORDS, suggest: 'tags' });
    expect(r.code).toBe(1);
    const tagged = JSON.parse(r.out) as { fields: { name: string; 'confluent:tags'?: string[] }[] };
    expect(Object.fromEntries(tagged.fields.map((f) => [f.name, f['confluent:tags'] ?? []]))).toEqual({
      id: [], email: ['PII', 'EMAIL'], comment: ['PII', 'FREE_TEXT'], extra: ['PII', 'EMAIL'], customer_name: ['PII', 'NAME'], tier: [],
    });
    const again = await scan({ schema: writeFile('tagged.avsc', r.out), in: RECORDS });
    expect(again.code).toBe(0);
  });

  it('counts lines that do not parse (naming the line, not the content) and scans the rest', async () => {
    const bad = writeFile('bad.jsonl', `${line(0)}\nnot json ${PLANTED[0]}\n{"id": 1, "email": "${PLANTED[1]}"}\n\n${line(2)}\n`);
    const r = await scan({ schema: SCHEMA, in: bad, json: true });
    const report = JSON.parse(r.out) as JsonReport;
    expect(report.records).toMatchObject({ read: 4, decoded: 2, failed: 2 });
    expect(report.failures).toEqual([{ code: 'MASKER_INPUT', what: 'not a record of the schema in Avro JSON encoding', count: 2, where: ['line 2', 'line 3'] }]);
    expect(r.code).toBe(1);
  });

  it('exits 2 when no line can be read at all', async () => {
    const r = await scan({ schema: SCHEMA, in: writeFile('garbage.jsonl', `${PLANTED[0]}\n{}\n`) });
    expect(r.code).toBe(2);
    expect(r.out).toContain('no record could be read (exit 2)');
  });

  it('--samples reads at most that many records', async () => {
    const r = await scan({ schema: SCHEMA, in: RECORDS, samples: '2', json: true });
    expect((JSON.parse(r.out) as JsonReport).records.read).toBe(2);
  });

  it.each([
    [{ in: 'x.jsonl' }, '--in needs --schema'],
    [{ schema: 'x.avsc', topic: 't' }, 'cannot be combined with --topic'],
    [{}, 'pass --topic (or --route)'],
    [{ schema: SCHEMA, in: join(dir, 'missing.jsonl') }, 'no such file'],
    [{ schema: join(dir, 'missing.avsc'), in: RECORDS }, 'cannot read the schema'],
    [{ schema: SCHEMA, in: RECORDS, samples: '0' }, '--samples: expected a positive integer'],
    [{ schema: SCHEMA, in: RECORDS, envelope: 'debezium' }, 'envelope debezium'],
    [{ schema: SCHEMA, in: RECORDS, policy: 'nope', policies: mkdtempSync(join(dir, 'empty-')) }, 'policy "nope" not found in policies folder'],
    [{ schema: SCHEMA, in: RECORDS, policy: 'nope' }, 'policies folder'],
  ] as [ScanCommandOptions, string][])('usage and input errors exit 2 with a message: %j', async (options, message) => {
    const r = await scan(options);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('takes a policy by name from the policies folder, or the route\'s', async () => {
    const policies = join(dir, 'policies');
    const routes = join(dir, 'routes');
    mkdirSync(policies, { recursive: true });
    mkdirSync(routes, { recursive: true });
    writeFileSync(join(policies, 'covering.yaml'), `${'apiVersion: masker/v1\nkind: MaskingPolicy\nname: covering\nrules:\n'}  - { name: all, match: { type: string }, action: redact }\n`);
    writeFileSync(join(routes, 'orders.yaml'), 'apiVersion: masker/v1\nkind: Route\nname: orders\nsource: { topic: prod.orders }\ntarget: { topic: staging.orders }\npolicy: covering\n');
    const byName = await scan({ schema: SCHEMA, in: RECORDS, policy: 'covering', policies });
    expect(byName.code).toBe(0);
    expect(byName.out).toContain(`policy: covering v1 (policies folder ${policies})`);
    const byRoute = await scan({ schema: SCHEMA, in: RECORDS, route: 'orders', routes, policies });
    expect(byRoute.code).toBe(0);
    expect((await scan({ schema: SCHEMA, in: RECORDS, route: 'other', routes, policies })).err).toContain('no route named "other"');
  });

  it('is registered as a command that sets the exit code', async () => {
    const c = capture();
    const program = new Command('masker').exitOverride();
    registerScanCommand(program, c.io);
    await program.parseAsync(['scan', '--schema', SCHEMA, '--in', RECORDS, '--json', '--routes', join(dir, 'none')], { from: 'user' });
    expect(process.exitCode).toBe(1);
    expect((JSON.parse(c.out()) as JsonReport).outcome).toBe('pii-not-covered');
  });
});

describe('sample ranges', () => {
  const w = (partition: number, low: number, high: number): { partition: number; low: bigint; high: bigint } => ({ partition, low: BigInt(low), high: BigInt(high) });

  it('takes the newest records, spread over partitions; a short partition gives its share to the others', () => {
    expect(sampleRanges([w(0, 0, 100), w(1, 0, 100)], 10)).toEqual([
      { partition: 0, start: 95n, end: 100n },
      { partition: 1, start: 95n, end: 100n },
    ]);
    expect(sampleRanges([w(0, 0, 100), w(1, 40, 42), w(2, 0, 0)], 10)).toEqual([
      { partition: 0, start: 92n, end: 100n },
      { partition: 1, start: 40n, end: 42n },
      { partition: 2, start: 0n, end: 0n },
    ]);
  });

  it('with --from starts there (clamped to the log) and reads to the end offsets', () => {
    expect(sampleRanges([w(0, 10, 100), w(1, 0, 5)], 10, new Map([[0, 3n], [1, 7n]]))).toEqual([
      { partition: 0, start: 10n, end: 100n },
      { partition: 1, start: 5n, end: 5n },
    ]);
  });
});
