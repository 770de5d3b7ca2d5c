import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctRecords, readAudit } from './support/audit.js';
import { waitFor, writeConfig } from './support/cli-worker.js';
import { consumeAll, createTopics, deleteTopics, endpoints, produceAvro, testKafka, testRegistry, unique } from './support/services.js';

const BIN = resolve(import.meta.dirname, '../../bin/masker.js');
const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'it.replay',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};
const BASE_TIME = Date.UTC(2026, 0, 1, 12, 0, 0);
const COUNT = 120;

interface Replay { code: Promise<number | null>; output: () => string; kill: (signal: NodeJS.Signals) => void }

describe('masker replay', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.replay.src');
  const target = unique('it.replay.dst');
  const timeTarget = unique('it.replay.time');
  const audit = unique('it.replay.audit');
  const quarantine = unique('it.replay.quarantine');
  const policy = 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: replay\nrules: []\n';
  const config = writeConfig(`apiVersion: masker/v1\nkind: Route\nname: orders\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: replay\n`, policy);
  const timeConfig = writeConfig(`apiVersion: masker/v1\nkind: Route\nname: orders\nsource: { topic: ${source} }\ntarget: { topic: ${timeTarget} }\npolicy: replay\n`, policy);

  function replay(args: string[], routes = config): Replay {
    const { brokers, registryUrl } = endpoints();
    const child = spawn(process.execPath, [BIN, 'replay', '--route', 'orders', '--routes', routes.routes, '--policies', routes.policies, ...args], {
      env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl, MASKER_SECRET: 'replay-test-secret-0123456789', MASKER_AUDIT_TOPIC: audit, MASKER_QUARANTINE_TOPIC: quarantine },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    return { code: new Promise((r) => child.once('exit', (c) => r(c))), output: () => output, kill: (s) => child.kill(s) };
  }

  async function targetOffsets(topic: string): Promise<number[]> {
    const out = await consumeAll(kafka, topic, 0, { settleMs: 1_500 });
    return Promise.all(out.map(async (m) => ((await registry.decode(m.value!)) as { n: number }).n));
  }

  beforeAll(async () => {
    // Records stamped in January: under the broker's 24 h time retention, its next check (every 5 min)
    // would delete them mid-test.
    await createTopics(kafka, [source], 1, { 'retention.ms': '-1' });
    await produceAvro(kafka, registry, source, schema, Array.from({ length: COUNT }, (_, n) => ({ value: { n, email: `buyer${n}@replay.example` }, timestamp: String(BASE_TIME + n * 1000) })));
  });

  afterAll(async () => {
    await deleteTopics(kafka, [source, target, timeTarget, audit, quarantine]);
  });

  it('re-masks an offset range exactly, with progress and audit events marked replayed', async () => {
    const run = replay(['--from', '10', '--to', '40']);
    expect(await run.code, run.output()).toBe(0);
    expect(run.output()).toMatch(/replay: 30\/30 records \(100%\)/);
    expect(await targetOffsets(target)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
    // Chunk (and plan) events accounting for the 30 records, plus the schema guard's baseline event for the
    // subject (replay meets it first here).
    const read = await readAudit(kafka, audit, 30, { until: (events) => events.some((e) => e.type === 'schema-approved') });
    expect(read.records).toHaveLength(30);
    expect(distinctRecords(read.records)).toBe(30);
    expect(read.records.map((r) => Number(r.offset)).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
    expect(read.records.every((r) => r.replayed === true && r.outcome === 'masked')).toBe(true);
    expect(read.events.filter((e) => e.type === 'chunk').every((e) => e.replayed === true)).toBe(true);
    // The replay run is an audit run of its own: its chunk events name the run's consumer group.
    expect(new Set(read.records.map((r) => r.group)).size).toBe(1);
    expect(read.records[0]!.group).toMatch(/^masker-replay-/);
    expect(read.records.every((r) => r.policy?.name === 'replay')).toBe(true);
    expect(read.events.filter((e) => !['record', 'chunk', 'plan'].includes(e.type)).map((e) => e.type)).toEqual(['schema-approved']);
    expect(read.text).not.toContain('replay.example');
  });

  it('resumes after a crash without duplicates', async () => {
    const first = replay(['--from', '40', '--to', '100', '--rate', '25']);
    await waitFor('some progress', async () => /replay: [1-9]\d*\/60/.test(first.output()), 30_000, 100);
    first.kill('SIGKILL');
    await first.code;
    const second = replay(['--from', '40', '--to', '100']);
    expect(await second.code, second.output()).toBe(0);
    expect(await targetOffsets(target)).toEqual(Array.from({ length: 90 }, (_, i) => 10 + i));
  });

  it('takes ISO times as bounds', async () => {
    const run = replay(['--from', new Date(BASE_TIME + 100_000).toISOString(), '--to', new Date(BASE_TIME + 110_000).toISOString()], timeConfig);
    expect(await run.code, run.output()).toBe(0);
    expect(await targetOffsets(timeTarget)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
  });

  it.each([
    ['a reversed range', ['--from', '50', '--to', '20'], /the range is reversed/],
    ['an empty range', ['--from', '30', '--to', '30'], /holds no records; nothing to replay/],
    ['a range past the end', ['--from', '500', '--to', '900'], /holds no records; nothing to replay/],
    ['a malformed bound', ['--from', 'yesterday', '--to', '20'], /--from: expected an offset .* or an ISO 8601 time/],
  ])('refuses %s: exit 2, clear message, nothing written', async (_label, args, message) => {
    const before = await targetOffsets(target);
    const run = replay(args);
    expect(await run.code).toBe(2);
    expect(run.output()).toMatch(message);
    expect(await targetOffsets(target)).toEqual(before);
  });

  it('refuses a range outside retention', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [source] });
    await admin.deleteTopicRecords({ topic: source, partitions: [{ partition: 0, offset: '5' }] });
    await admin.disconnect();
    const run = replay(['--from', '0', '--to', '20']);
    expect(await run.code).toBe(2);
    expect(run.output()).toMatch(/--from 0 is outside retention \(earliest retained offset is 5\)/);
  });
});
