import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctRecords, readAudit } from './support/audit.js';
import { startCliWorker, waitFor, writeConfig, type CliWorker } from './support/cli-worker.js';
import { committedCount, consumeAll, createTopics, deleteTopics, testKafka, testRegistry, unique } from './support/services.js';

const schema = {
  type: 'record',
  name: 'Click',
  namespace: 'it.scale',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
  ],
};

/**
 * Two `masker run` processes in one group share a 4-partition topic; one leaves mid-stream (SIGTERM) and
 * the other takes its partitions over: every record still arrives exactly once, in per-partition order.
 */
describe('scale-out: two workers in one consumer group', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.scale.src');
  const target = unique('it.scale.dst');
  const audit = unique('it.scale.audit');
  const quarantine = unique('it.scale.quarantine');
  const groupId = unique('it-scale');
  const TOTAL = 800;
  const workers: CliWorker[] = [];
  let schemaId: number;

  async function produce(from: number, to: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    const messages = [];
    for (let n = from; n < to; n++) messages.push({ key: String(n), value: await registry.encode(schemaId, { n, email: `c${n}@scale.example` }) });
    await producer.send({ topic: source, messages });
    await producer.disconnect();
  }

  beforeAll(async () => {
    await createTopics(kafka, [source], 4);
    ({ id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` }));
    const config = writeConfig(
      `apiVersion: masker/v1\nkind: Route\nname: scale\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: scale\nkey: keep\n`,
      'apiVersion: masker/v1\nkind: MaskingPolicy\nname: scale\nrules: []\n',
    );
    const env = { MASKER_SECRET: 'scale-test-secret-0123456789abcdef', MASKER_GROUP_ID: groupId, MASKER_AUDIT_TOPIC: audit, MASKER_QUARANTINE_TOPIC: quarantine, MASKER_BATCH_RECORDS: '20', MASKER_SESSION_TIMEOUT_MS: '6000' };
    workers.push(startCliWorker(config, env), startCliWorker(config, env));
    await waitFor('both workers to start', async () => workers.every((w) => w.stderr().includes('worker started')), 60_000);
    await produce(0, TOTAL / 2);
    await waitFor('both workers to commit', async () => (await committedCount(kafka, groupId, source)) >= TOTAL / 4, 90_000);
    expect(await workers[0]!.stop('SIGTERM')).toBe(0);
    await produce(TOTAL / 2, TOTAL);
    await waitFor('every record committed', async () => (await committedCount(kafka, groupId, source)) >= TOTAL, 120_000, 500);
  });

  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await deleteTopics(kafka, [source, target, audit, quarantine]);
  });

  it('delivers every record exactly once, in order within each partition', async () => {
    const out = await consumeAll(kafka, target, TOTAL, { settleMs: 2_000 });
    expect(out).toHaveLength(TOTAL);
    expect(new Set(out.map((m) => m.key!.toString())).size).toBe(TOTAL);
    const byPartition = new Map<number, number[]>();
    for (const m of out) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), Number(m.key!.toString())]);
    expect(byPartition.size).toBe(4);
    for (const seqs of byPartition.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('audits every record exactly once across the hand-over (chunk events, each plan event under one hash)', async () => {
    const read = await readAudit(kafka, audit, TOTAL, { settleMs: 2_000 });
    expect(read.records).toHaveLength(TOTAL);
    expect(distinctRecords(read.records)).toBe(TOTAL);
    expect(read.records.every((r) => r.outcome === 'masked' && r.from.type === 'chunk')).toBe(true);
    // Each worker writes the plan the first time it uses it: the same hash, so one plan masked them all.
    expect(new Set(read.records.map((r) => r.planHash)).size).toBe(1);
    expect(read.records.every((r) => r.policy?.name === 'scale')).toBe(true);
    expect(read.text).not.toContain('scale.example');
  });

  it('had both workers consuming before one left', () => {
    for (const w of workers) expect(w.stderr()).toContain('worker started');
  });
});
