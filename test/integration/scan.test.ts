import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScanCommand, type ScanCommandOptions } from '../../src/cli/scan-command.js';
import { parsePolicy } from '../../src/masking/index.js';
import { createRedisClient } from '../../src/policy/redis-client.js';
import { RedisKeys } from '../../src/policy/redis-keys.js';
import { RedisPolicyAdmin } from '../../src/policy/redis-policy-admin.js';
import { waitFor } from './support/cli-worker.js';
import { createTopics, deleteTopics, endpoints, produceAvro, testKafka, testRegistry, unique } from './support/services.js';

// Distinctive planted values: the scan must never print any of them (text, JSON, suggestions, errors).
const PLANTED = {
  email: 'zz.planted.primary@example.org',
  inMap: 'zz.planted.mapped@example.net',
  phone: '+1 415-555-0163',
  ssn: '078-05-1120',
  card: '4556 7375 8689 9855',
};

const schema = {
  type: 'record',
  name: 'Ticket',
  namespace: 'it.scan',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'comment', type: ['null', 'string'], default: null },
    { name: 'extra', type: { type: 'map', values: 'string' } },
    { name: 'tier', type: 'string' },
  ],
};

function ticket(i: number): Record<string, unknown> {
  return {
    id: i,
    email: PLANTED.email,
    comment: i % 3 === 0 ? `customer called from ${PLANTED.phone}, ssn ${PLANTED.ssn}, paid with ${PLANTED.card}` : 'nothing to add',
    extra: i % 2 === 0 ? { contact: PLANTED.inMap, channel: 'web' } : { channel: 'phone' },
    tier: 'gold',
  };
}

const RECORDS = 30;
const dir = mkdtempSync(join(tmpdir(), 'masker-scan-it-'));

interface Run { code: number; out: string; err: string }

async function scan(options: ScanCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (c: Buffer) => o.push(c));
  stderr.on('data', (c: Buffer) => e.push(c));
  const code = await runScanCommand({ routes: join(dir, 'no-routes'), ...options }, { stdout, stderr, stdin: Readable.from([]), env }, { idleMs: 60_000 });
  const run = { code, out: Buffer.concat(o).toString('utf8'), err: Buffer.concat(e).toString('utf8') };
  for (const v of Object.values(PLANTED)) {
    expect(run.out).not.toContain(v);
    expect(run.err).not.toContain(v);
  }
  expect(run.err).not.toMatch(/\n\s+at /); // no stack trace
  return run;
}

interface JsonReport {
  outcome: string;
  exitCode: number;
  records: { requested: number; read: number; decoded: number; tombstones: number; failed: number };
  failures: { code: string; what: string; count: number; where: string[] }[];
  schemaIds: number[];
  notes: string[];
  policy: { name: string; version: number; origin: string; disabledRules: string[] } | null;
  fields: { path: string; verdict: string; values: number; coverage: { by: string; rule?: string }; hits: { values: number; byDetector: Record<string, number>; inText: number } }[];
}

function field(report: JsonReport, path: string): JsonReport['fields'][number] {
  const f = report.fields.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no field ${path}`);
  return f;
}

describe('masker scan on a topic', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const topic = unique('it.scan.tickets');
  const emptyTopic = unique('it.scan.empty');
  const emptyWithSchema = unique('it.scan.empty-schema');
  const txTopic = unique('it.scan.tx');
  let schemaId: number;

  beforeAll(async () => {
    await createTopics(kafka, [topic], 2);
    await createTopics(kafka, [emptyTopic, emptyWithSchema, txTopic]);
    schemaId = await produceAvro(kafka, registry, topic, schema, Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: ticket(i) })));
    // Records that cannot be read: not wire format, an unknown schema id, a body that does not decode, a tombstone.
    const notWire = Buffer.from(`{"email":"${PLANTED.email}"}`);
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from(PLANTED.email)]);
    const truncated = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), Buffer.from([0x02, 0x08])]);
    truncated.writeUInt32BE(schemaId, 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: notWire, partition: 0 }, { value: unknownId, partition: 1 }, { value: truncated, partition: 0 }, { key: 'gone', value: null, partition: 1 }] });
    await producer.disconnect();
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Contact', namespace: 'it.scan', fields: [{ name: 'email_address', type: 'string' }] }) }, { subject: `${emptyWithSchema}-value` });
  });

  afterAll(async () => {
    await deleteTopics(kafka, [topic, emptyTopic, emptyWithSchema, txTopic]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the planted PII in an untagged string and an untagged map: verdicts, counts, exit 1', async () => {
    const run = await scan({ topic, json: true });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.out) as JsonReport;
    expect(report).toMatchObject({ outcome: 'pii-not-covered', exitCode: 1, schemaIds: [schemaId], policy: null });
    expect(report.records).toEqual({ requested: 1000, read: RECORDS + 4, decoded: RECORDS, tombstones: 1, failed: 3 });
    expect(field(report, 'comment')).toMatchObject({ verdict: 'pii-not-covered', values: RECORDS, hits: { values: 10, inText: 10, byDetector: { ssn: 10, 'credit-card': 10, phone: 10 } } });
    expect(field(report, 'extra{}')).toMatchObject({ verdict: 'pii-not-covered', values: 45, hits: { values: 15, byDetector: { email: 15 } } });
    expect(field(report, 'email')).toMatchObject({ verdict: 'covered', coverage: { by: 'tags' }, hits: { values: RECORDS } });
    expect(field(report, 'tier').verdict).toBe('clean');
    expect(field(report, 'id').verdict).toBe('clean');
    // Each kind of unreadable record is reported once, by position and reason.
    const byCode = Object.fromEntries(report.failures.map((f) => [f.code, f]));
    expect(byCode['MASKER_WIRE_FORMAT']).toMatchObject({ count: 1, where: [expect.stringMatching(/^partition 0 offset \d+$/)] });
    expect(byCode['MASKER_SCHEMA_NOT_FOUND']).toMatchObject({ count: 1, what: `unknown schema id ${0x7ffffff0} (not in the registry)` });
    expect(byCode['MASKER_DECODE']).toMatchObject({ count: 1, what: `the Avro body does not decode with its writer schema (id ${schemaId})` });
  });

  it('prints a readable text report with the same verdicts', async () => {
    const run = await scan({ topic, samples: '500' });
    expect(run.code).toBe(1);
    expect(run.out).toContain(`masker scan: topic ${topic} (2 partition(s), from newest records): 34 record(s) read, 30 decoded, 1 tombstone(s), 3 not readable`);
    expect(run.out).toMatch(/comment\s+string\?\s+-\s+-\s+30\s+credit-card 10, ssn 10, phone 10 of 30 \(in text\)\s+-\s+PII NOT COVERED/);
    expect(run.out).toMatch(/extra\{\}\s+string\s+-\s+-\s+45\s+email 15 of 45\s+-\s+PII NOT COVERED/);
    expect(run.out).toContain('unknown schema id');
    expect(run.out).toContain('uncovered PII found (exit 1)');
  });

  it('--samples N stops after N records', async () => {
    const run = await scan({ topic, samples: '8', from: 'beginning', json: true });
    const report = JSON.parse(run.out) as JsonReport;
    expect(report.records.read).toBe(8);
  });

  it('--suggest policy prints a policy that parses and, pushed to Redis, leaves nothing uncovered (toggles honoured)', async () => {
    const run = await scan({ topic, suggest: 'policy' });
    expect(run.code).toBe(1);
    expect(run.err).toContain('PII NOT COVERED');
    const doc = parseYaml(run.out) as Record<string, unknown>;
    const suggested = parsePolicy(doc, 'suggestion');
    expect(suggested.rules.map((r) => [r.match.path?.[0], r.action])).toEqual([['comment', 'scrub'], ['extra{}', 'scrub']]);
    // The same policy source the worker uses: Redis (REDIS_URL), under a name no other test uses.
    const name = unique('scan-it');
    const client = createRedisClient(endpoints().redisUrl);
    const admin = new RedisPolicyAdmin({ client });
    const keys = new RedisKeys('masker');
    try {
      await admin.push({ ...doc, name }, { by: 'scan-test', origin: 'scan.test.ts' });
      const covered = await scan({ topic, policy: name, json: true });
      expect(covered.code).toBe(0);
      const report = JSON.parse(covered.out) as JsonReport;
      expect(report.policy).toMatchObject({ name, version: 1, disabledRules: [] });
      expect(field(report, 'comment').coverage).toMatchObject({ by: 'rule', rule: 'scan-comment' });
      await admin.toggle(name, 'scan-extra', 'off');
      const toggled = await scan({ topic, policy: name, json: true });
      expect(toggled.code).toBe(1);
      expect(field(JSON.parse(toggled.out) as JsonReport, 'extra{}').verdict).toBe('pii-not-covered');
    } finally {
      await client.del(keys.policy(name), keys.history(name), keys.toggles(name));
      client.disconnect();
    }
  });

  it('--policy FILE that covers everything: exit 0', async () => {
    const file = join(dir, 'covering.yaml');
    writeFileSync(file, 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: covering\nrules:\n  - { name: comment, match: { path: comment }, action: scrub }\n  - { name: extra, match: { path: extra }, action: redact }\n');
    const run = await scan({ topic, policy: file });
    expect(run.code).toBe(0);
    expect(run.out).toContain('0 with PII no rule or tag covers');
  });

  it('an empty topic: a clear note, no verdict on values, exit 0', async () => {
    const run = await scan({ topic: emptyTopic, json: true });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out) as JsonReport;
    expect(report.records.read).toBe(0);
    expect(report.notes).toEqual([`topic ${emptyTopic} has no records (end offsets read at the start)`, `no schema registered under ${emptyTopic}-value either: nothing to scan`]);
  });

  it('an empty topic with a registered schema: its fields, coverage and name hints only', async () => {
    const run = await scan({ topic: emptyWithSchema });
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/email_address\s+string\s+-\s+-\s+0\s+-\s+EMAIL\s+PII NOT COVERED/);
    expect(run.out).toContain('coverage and name hints only, no values sampled');
  });

  it('an unknown topic: a message and exit 2', async () => {
    const missing = unique('it.scan.missing');
    const run = await scan({ topic: missing });
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toBe(`masker scan: MASKER_INPUT: topic ${missing} does not exist (cluster ${endpoints().brokers.join(',')})\n`);
  });

  it('a busy topic: records produced while it runs neither keep it going nor cut the sample short', async () => {
    const body = await registry.encode(schemaId, ticket(1));
    const producer = kafka.producer();
    await producer.connect();
    let producing = true;
    let sent = 0;
    const background = (async () => {
      // One batch after another, as fast as the broker takes them, until the scans are done.
      while (producing) {
        await producer.send({ topic, messages: [{ value: body, partition: 0 }, { value: body, partition: 1 }] });
        sent += 1;
      }
    })();
    try {
      // The newest 20 of two partitions are 10 of each: wait until each holds more than 10 of the busy
      // producer's records, or the window reaches the older records planted by the tests above (some not Avro).
      await waitFor('the producer to be busy', async () => sent >= 12, 20_000, 20);
      const newest = JSON.parse((await scan({ topic, samples: '20', json: true })).out) as JsonReport;
      expect(newest.records).toMatchObject({ read: 20, decoded: 20 });
      const oldest = JSON.parse((await scan({ topic, samples: '12', from: 'beginning', json: true })).out) as JsonReport;
      expect(oldest.records).toMatchObject({ read: 12 });
      expect(oldest.notes).toEqual([]);
    } finally {
      producing = false;
      await background;
      await producer.disconnect();
    }
  });

  it('stops at the end offsets when the log ends with transaction markers and aborted records', async () => {
    const id = await produceAvro(kafka, registry, txTopic, schema, [{ value: ticket(0) }]);
    const body = await registry.encode(id, ticket(3));
    const producer = kafka.producer({ transactionalId: unique('it-scan-tx'), maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: txTopic, messages: [{ value: body }, { value: body }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: txTopic, messages: [{ value: body }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }
    const started = Date.now();
    const run = await scan({ topic: txTopic, from: 'beginning', json: true });
    const report = JSON.parse(run.out) as JsonReport;
    expect(report.records).toMatchObject({ read: 3, decoded: 3 });
    expect(report.notes).toEqual([]);
    expect(Date.now() - started).toBeLessThan(30_000); // the idle limit is 60 s: it ended on the offsets
  });
});
