import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctRecords, readAudit } from './support/audit.js';
import { waitFor } from './support/cli-worker.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { committedCount, consumeAll, createTopics, testKafka, testRegistry, unique } from './support/services.js';

const ROOT = resolve(import.meta.dirname, '../..');
const STACK = process.env['MASKER_STACK_DIR'] ?? `${ROOT}/.stack`;
const PID_FILE = `${STACK}/kafka.pid`;
// Only when the broker is the local stack's: a broker given from outside is not ours to restart.
const ours = existsSync(PID_FILE) && process.env['KAFKA_BROKERS'] === `127.0.0.1:${process.env['MASKER_KAFKA_PORT'] ?? '19092'}`;

const schema = {
  type: 'record',
  name: 'Tick',
  namespace: 'it.restart',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
  ],
};

/** Restart the broker mid-stream (controlled shutdown, then start): no record lost, none duplicated. */
describe.skipIf(!ours)('broker restart mid-stream', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.restart.src');
  const target = unique('it.restart.dst');
  const TOTAL = 400;
  let pipeline: TestPipeline;
  let schemaId: number;

  async function produce(from: number, to: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    const messages = [];
    for (let n = from; n < to; n++) messages.push({ key: String(n), value: await registry.encode(schemaId, { n, email: `t${n}@restart.example` }) });
    await producer.send({ topic: source, messages });
    await producer.disconnect();
  }

  const committed = (): Promise<number> => committedCount(kafka, pipeline.groupId, source);

  beforeAll(async () => {
    await createTopics(kafka, [source], 2);
    ({ id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` }));
    await produce(0, TOTAL / 2);
    pipeline = await startTestPipeline({
      route: { name: 'restart', source: { topic: source }, target: { topic: target }, policy: 'it-restart', key: 'keep' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-restart', rules: [] }),
      maxBatchRecords: 5,
    });
    await waitFor('first commits', async () => (await committed()) > 0, 60_000);
    const pid = Number(readFileSync(PID_FILE, 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor('the broker to stop', async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 60_000, 250);
    execFileSync('bash', [`${ROOT}/deploy/local/stack.sh`, 'up'], { stdio: 'ignore', timeout: 180_000 });
    await produce(TOTAL / 2, TOTAL);
    await waitFor('every record committed', async () => (await committed().catch(() => 0)) >= TOTAL, 120_000, 500);
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('target and audit hold every record exactly once', async () => {
    const out = await consumeAll(kafka, target, TOTAL, { settleMs: 2_000 });
    expect(out).toHaveLength(TOTAL);
    expect(new Set(out.map((m) => m.key!.toString())).size).toBe(TOTAL);
    // Every source offset in exactly one committed audit event (a chunk event per transaction in v2).
    const audit = await readAudit(kafka, pipeline.auditTopic, TOTAL, { settleMs: 1_000 });
    expect(audit.records).toHaveLength(TOTAL);
    expect(distinctRecords(audit.records)).toBe(TOTAL);
    expect(audit.records.every((r) => r.outcome === 'masked')).toBe(true);
  });
});
