import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctRecords, readAudit } from './support/audit.js';
import { waitFor, writeConfig } from './support/cli-worker.js';
import { consumeAll, createTopics, deleteTopics, endpoints, produceAvro, targetBrokers, testKafka, testRegistry, testTargetKafka, unique } from './support/services.js';

const BIN = resolve(import.meta.dirname, '../../bin/masker.js');
const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'it.replay2',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};
const COUNT = 200;

/**
 * `masker replay` into a separate staging cluster: the re-masked range and its audit land on the target
 * cluster only, the replay's position is stored there, and a replay killed mid-way resumes without
 * duplicates. Runs when the global setup started the second local cluster.
 */
describe.skipIf(targetBrokers() === undefined)('masker replay into a separate target cluster', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  let targetKafka: Kafka;
  const source = unique('it.replay2.src');
  const target = unique('it.replay2.dst');
  const audit = unique('it.replay2.audit');
  const quarantine = unique('it.replay2.quarantine');
  const config = writeConfig(
    `apiVersion: masker/v1\nkind: Route\nname: orders\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: replay\n`,
    'apiVersion: masker/v1\nkind: MaskingPolicy\nname: replay\nrules: []\n',
  );

  function replay(args: string[]): { code: Promise<number | null>; output: () => string; kill: (s: NodeJS.Signals) => void } {
    const { brokers, registryUrl } = endpoints();
    const child = spawn(process.execPath, [BIN, 'replay', '--route', 'orders', '--routes', config.routes, '--policies', config.policies, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BROKERS: brokers.join(','),
        TARGET_KAFKA_BROKERS: (targetBrokers() ?? []).join(','),
        SCHEMA_REGISTRY_URL: registryUrl,
        MASKER_SECRET: 'replay-test-secret-0123456789',
        MASKER_AUDIT_TOPIC: audit,
        MASKER_QUARANTINE_TOPIC: quarantine,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    return { code: new Promise((r) => child.once('exit', (c) => r(c))), output: () => output, kill: (s) => child.kill(s) };
  }

  async function replayed(cluster: Kafka): Promise<number[]> {
    const admin = cluster.admin();
    await admin.connect();
    const exists = (await admin.listTopics()).includes(target);
    await admin.disconnect();
    if (!exists) return [];
    const out = await consumeAll(cluster, target, 0, { settleMs: 1_500 });
    return Promise.all(out.map(async (m) => ((await registry.decode(m.value!)) as { n: number }).n));
  }

  beforeAll(async () => {
    targetKafka = testTargetKafka();
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, Array.from({ length: COUNT }, (_, n) => ({ value: { n, email: `buyer${n}@replay.example` } })));
  });

  afterAll(async () => {
    await deleteTopics(kafka, [source, target, quarantine]);
    await deleteTopics(targetKafka, [target, audit, `masker.offsets.${source}`]);
  });

  it('writes the range to the target cluster only, audited there as replayed', async () => {
    const run = replay(['--from', '10', '--to', '50']);
    expect(await run.code, run.output()).toBe(0);
    expect(run.output()).toContain('on the target cluster (TARGET_KAFKA_BROKERS)');
    expect(await replayed(targetKafka)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    expect(await replayed(kafka)).toEqual([]);
    // Chunk (and plan) events accounting for the 40 records, plus the schema guard's baseline event for the
    // subject (replay meets it first here).
    const read = await readAudit(targetKafka, audit, 40, { until: (events) => events.some((e) => e.type === 'schema-approved') });
    expect(read.records).toHaveLength(40);
    expect(distinctRecords(read.records)).toBe(40);
    expect(read.records.map((r) => Number(r.offset)).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    expect(read.records.every((r) => r.replayed === true && r.outcome === 'masked')).toBe(true);
    expect(read.events.filter((e) => !['record', 'chunk', 'plan'].includes(e.type)).map((e) => e.type)).toEqual(['schema-approved']);
    expect(read.text).not.toContain('replay.example');
  });

  it('resumes after a crash without duplicates, from the position stored in the target cluster', async () => {
    const first = replay(['--from', '50', '--to', '200', '--rate', '40']);
    await waitFor('some progress', async () => /replay: [1-9]\d*\/150/.test(first.output()), 30_000, 100);
    first.kill('SIGKILL');
    await first.code;
    const second = replay(['--from', '50', '--to', '200']);
    expect(await second.code, second.output()).toBe(0);
    expect(await replayed(targetKafka)).toEqual(Array.from({ length: 190 }, (_, i) => 10 + i));
    // Every replayed offset audited exactly once, the killed replay's committed part included.
    const audited = await readAudit(targetKafka, audit, 190, { settleMs: 1_500 });
    expect(audited.records).toHaveLength(190);
    expect(distinctRecords(audited.records)).toBe(190);
    expect(audited.records.every((r) => r.replayed === true && r.outcome === 'masked')).toBe(true);
  });
});
