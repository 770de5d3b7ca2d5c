import { SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkAuditEvent } from '../../../src/audit/audit-event.js';
import { shadowTopic } from '../../../src/kafka/cross-cluster.js';
import { readAudit } from './audit.js';
import { startCliWorker, waitFor, writeConfig, type CliWorker } from './cli-worker.js';
import { committedCount, consumeAll, createTopics, deleteTopics, testKafka, testRegistry, testTargetKafka, unique } from './services.js';

const schema = {
  type: 'record',
  name: 'Event',
  namespace: 'it.crash',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};

export interface CrashSuiteOptions {
  readonly total: number;
  readonly kills: number;
  /** Two-cluster mode: target and audit on this cluster (TARGET_KAFKA_BROKERS), quarantine on the source. */
  readonly targetBrokers?: readonly string[];
}

/**
 * SIGKILL `masker run` mid-stream several times and restart it: the target topic (read committed) must hold
 * each source record exactly once, and the audit topic's chunk events each source offset exactly once. The committed position that
 * counts is the one that commits with the target transaction: the source group's offsets in one cluster,
 * the group's offsets on the shadow topic of the target cluster in two-cluster mode.
 */
export function crashSuite(name: string, options: CrashSuiteOptions): void {
  const { total, kills, targetBrokers } = options;
  describe(name, () => {
    const kafka = testKafka();
    const targetKafka: Kafka = targetBrokers === undefined ? kafka : testTargetKafka();
    const registry = testRegistry();
    const source = unique('it.crash.src');
    const target = unique('it.crash.dst');
    const auditTopic = unique('it.crash.audit');
    const quarantine = unique('it.crash.quarantine');
    const groupId = unique('it-crash-group');
    const workers: CliWorker[] = [];

    const env = {
      MASKER_SECRET: 'crash-test-secret-0123456789abcdef',
      MASKER_GROUP_ID: groupId,
      MASKER_AUDIT_TOPIC: auditTopic,
      MASKER_QUARANTINE_TOPIC: quarantine,
      MASKER_BATCH_RECORDS: '10',
      MASKER_SESSION_TIMEOUT_MS: '6000',
      ...(targetBrokers === undefined ? {} : { TARGET_KAFKA_BROKERS: targetBrokers.join(',') }),
    };

    const committed = (): Promise<number> => targetBrokers === undefined
      ? committedCount(kafka, groupId, source)
      // The worker creates the shadow topic at startup; before that nothing is committed.
      : committedCount(targetKafka, groupId, shadowTopic(source)).catch(() => 0);

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
      const slice = Math.ceil(total / (kills + 1));
      const config = writeConfig(
        `apiVersion: masker/v1\nkind: Route\nname: crash\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: crash\nkey: keep\n`,
        'apiVersion: masker/v1\nkind: MaskingPolicy\nname: crash\nrules: []\n',
      );
      let produced = 0;
      for (let k = 0; k < kills; k++) {
        const to = Math.min(total, produced + slice);
        await produceSlice(produced, to);
        produced = to;
        const before = await committed();
        const worker = startCliWorker(config, env);
        workers.push(worker);
        // Kill as soon as this incarnation has committed something: it is mid-stream by construction.
        await waitFor(`worker ${k} to commit`, async () => (await committed()) > before, 90_000);
        await worker.stop('SIGKILL');
        // Two clusters: the source group's offsets are only a hint. Simulate the worst case, every source
        // commit lost (a crash between the target commit and the source commit, each time): rewind the
        // source group to the beginning. The next worker must drop all it reads below the stored position.
        if (targetBrokers !== undefined) await rewindSourceGroup(kafka, groupId, source);
      }
      await produceSlice(produced, total);
      await producer.disconnect();
      const last = startCliWorker(config, env);
      workers.push(last);
      await waitFor('all records committed', async () => (await committed()) >= total, 120_000, 500);
    });

    afterAll(async () => {
      for (const w of workers) await w.stop('SIGKILL');
      await deleteTopics(kafka, [source, target, auditTopic, quarantine]);
      if (targetKafka !== kafka) await deleteTopics(targetKafka, [target, auditTopic, shadowTopic(source)]);
    });

    it('target holds every source record exactly once', async () => {
      const out = await consumeAll(targetKafka, target, total, { settleMs: 2_000 });
      const seqs = out.map((m) => Number(m.key!.toString()));
      expect(out).toHaveLength(total);
      expect(new Set(seqs).size).toBe(total);
    });

    it('audit: every source offset lies in exactly one committed chunk event, and every plan they name was written', async () => {
      // Besides chunk and plan events, the schema guard's `schema-approved` baseline event for the subject (sent
      // outside the transactions: a worker killed right after recording the baseline may not have sent it).
      const audit = await readAudit(targetKafka, auditTopic, total, { settleMs: 2_000 });
      const chunks = audit.events.filter((e): e is ChunkAuditEvent => e.type === 'chunk');
      expect(audit.events.every((e) => ['chunk', 'plan', 'schema-approved'].includes(e.type))).toBe(true);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(chunks.length);
      for (const partition of [0, 1]) {
        const ranges = chunks.filter((c) => c.source.partition === partition)
          .map((c) => [Number(c.source.firstOffset), Number(c.source.lastOffset), c.records] as const)
          .sort((a, b) => a[0] - b[0]);
        // Contiguous and disjoint: each chunk starts right after the previous one (the source has no
        // transaction markers), so no offset is audited twice or skipped, across every kill and rebalance.
        let next = 0;
        for (const [first, last, records] of ranges) {
          expect(first).toBe(next);
          expect(records).toBe(last - first + 1);
          next = last + 1;
        }
      }
      expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(total);
      expect(audit.records).toHaveLength(total);
      const named = new Set(chunks.flatMap((c) => c.plans.map((r) => r.plan)));
      for (const hash of named) expect(audit.index.plan(hash), `plan ${hash}`).toBeDefined();
      expect(audit.records.every((r) => r.outcome === 'masked' && r.policy?.name === 'crash')).toBe(true);
    });

    if (targetBrokers !== undefined) {
      it('says so at startup', () => {
        expect(workers.at(-1)?.stderr()).toContain('two-cluster mode');
      });

      it('nothing masked or audited lands on the source cluster', async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const topics = await admin.listTopics();
          expect(topics).not.toContain(target);
          expect(topics).not.toContain(auditTopic);
          expect(topics).not.toContain(shadowTopic(source));
        } finally {
          await admin.disconnect();
        }
      });
    }
  });
}

/** Resets the group's source offsets to earliest, once the killed member has left (session timeout). */
async function rewindSourceGroup(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor('the killed worker to leave the group', async () => {
      try {
        await admin.resetOffsets({ groupId, topic, earliest: true });
        return true;
      } catch {
        return false; // the group still has the killed member until its session times out
      }
    }, 60_000, 500);
  } finally {
    await admin.disconnect();
  }
}
