import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliWorker, waitFor, writeConfig, type CliWorker } from './support/cli-worker.js';
import { committedCount, consumeAll, createTopics, deleteTopics, testKafka, testRegistry, unique } from './support/services.js';

const schema = {
  type: 'record',
  name: 'Event',
  namespace: 'it.crash',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};

const TOTAL = Number(process.env['MASKER_CRASH_RECORDS'] ?? 600);
const KILLS = Number(process.env['MASKER_CRASH_KILLS'] ?? 3);

/**
 * SIGKILL the worker mid-stream several times and restart it: the target topic (read committed) must hold
 * each source record exactly once, and the audit topic one event per record.
 */
describe('exactly once across SIGKILLs', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.crash.src');
  const target = unique('it.crash.dst');
  const audit = unique('it.crash.audit');
  const quarantine = unique('it.crash.quarantine');
  const groupId = unique('it-crash-group');
  const workers: CliWorker[] = [];

  const env = {
    MASKER_SECRET: 'crash-test-secret-0123456789abcdef',
    MASKER_GROUP_ID: groupId,
    MASKER_AUDIT_TOPIC: audit,
    MASKER_QUARANTINE_TOPIC: quarantine,
    MASKER_BATCH_RECORDS: '10',
    MASKER_SESSION_TIMEOUT_MS: '6000',
  };

  const committed = (): Promise<number> => committedCount(kafka, groupId, source);

  beforeAll(async () => {
    await createTopics(kafka, [source], 2);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` });
    const producer = kafka.producer();
    await producer.connect();
    // Produce in slices while the worker is being killed, so the crashes land mid-stream.
    const produceSlice = async (from: number, to: number): Promise<void> => {
      const messages = [];
      for (let seq = from; seq < to; seq++) messages.push({ key: String(seq), value: await registry.encode(id, { seq, email: `p${seq}@x.example` }) });
      await producer.send({ topic: source, messages });
    };
    const slice = Math.ceil(TOTAL / (KILLS + 1));
    const config = writeConfig(
      `apiVersion: masker/v1\nkind: Route\nname: crash\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: crash\nkey: keep\n`,
      'apiVersion: masker/v1\nkind: MaskingPolicy\nname: crash\nrules: []\n',
    );
    let produced = 0;
    for (let k = 0; k < KILLS; k++) {
      const to = Math.min(TOTAL, produced + slice);
      await produceSlice(produced, to);
      produced = to;
      const before = await committed();
      const worker = startCliWorker(config, env);
      workers.push(worker);
      // Kill as soon as this incarnation has committed something: it is mid-stream by construction.
      await waitFor(`worker ${k} to commit`, async () => (await committed()) > before, 90_000);
      await worker.stop('SIGKILL');
    }
    await produceSlice(produced, TOTAL);
    await producer.disconnect();
    const last = startCliWorker(config, env);
    workers.push(last);
    await waitFor('all records committed', async () => (await committed()) >= TOTAL, 120_000, 500);
  });

  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await deleteTopics(kafka, [source, target, audit, quarantine]);
  });

  it('target holds every source record exactly once', async () => {
    const out = await consumeAll(kafka, target, TOTAL, { settleMs: 2_000 });
    const seqs = out.map((m) => Number(m.key!.toString()));
    expect(out).toHaveLength(TOTAL);
    expect(new Set(seqs).size).toBe(TOTAL);
  });

  it('audit holds exactly one event per source record', async () => {
    const events = await consumeAll(kafka, audit, TOTAL, { settleMs: 2_000 });
    const ids = events.map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id);
    expect(events).toHaveLength(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
  });
});
