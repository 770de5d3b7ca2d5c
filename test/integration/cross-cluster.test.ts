import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shadowTopic } from '../../src/kafka/cross-cluster.js';
import { QUARANTINE_HEADERS } from '../../src/worker/record-processor.js';
import { distinctRecords, readAudit } from './support/audit.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { committedCount, consumeAll, createTopics, endpoints, produceAvro, targetBrokers, targetRegistryUrl, testKafka, testRegistry, testTargetKafka, unique } from './support/services.js';

const schema = {
  type: 'record',
  name: 'Person',
  namespace: 'it.twocluster',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
  ],
};

const SECRET_EMAIL = 'two.clusters@example.org';

async function topicsOf(kafka: Kafka): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

/** Two-cluster mode, in process: masked records and audit on the target cluster, raw quarantine on the source. */
describe.skipIf(targetBrokers() === undefined)('separate target cluster: quarantine stays on the source', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.two');
  const target = unique('it.staging.two');
  const bad = Buffer.from(`{"email":"${SECRET_EMAIL}"}`);
  let targetKafka: Kafka;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    targetKafka = testTargetKafka();
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, [
      { key: '0', value: { id: 0, email: SECRET_EMAIL } },
      { key: '1', value: bad },
      { key: '2', value: { id: 2, email: SECRET_EMAIL } },
    ]);
    pipeline = await startTestPipeline({
      route: { name: 'two-clusters', source: { topic: source }, target: { topic: target }, policy: 'it-two', key: 'keep' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-two', rules: [] }),
      targetBrokers: targetBrokers()!,
    });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('writes the masked records to the target cluster only', async () => {
    const out = await consumeAll(targetKafka, target, 2, { settleMs: 1_500 });
    expect(out.map((m) => m.key?.toString())).toEqual(['0', '2']);
    for (const m of out) expect(((await registry.decode(m.value!)) as { email: string }).email).not.toBe(SECRET_EMAIL);
    expect(await topicsOf(kafka)).not.toContain(target);
  });

  it('quarantines the bad record raw on the source cluster, not on the target', async () => {
    const quarantined = await consumeAll(kafka, pipeline.quarantineTopic, 1, { settleMs: 1_500 });
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]!.value?.equals(bad)).toBe(true);
    expect(quarantined[0]!.headers[QUARANTINE_HEADERS.offset]?.toString()).toBe('1');
    expect(await topicsOf(targetKafka)).not.toContain(pipeline.quarantineTopic);
  });

  it('audits every record on the target cluster and stores the source position there', async () => {
    const audit = await readAudit(targetKafka, pipeline.auditTopic, 3, { settleMs: 1_500 });
    expect(audit.records).toHaveLength(3);
    expect(distinctRecords(audit.records)).toBe(3);
    const outcomes = [...audit.records].sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.outcome);
    expect(outcomes).toEqual(['masked', 'quarantined', 'masked']);
    expect(audit.text).not.toContain(SECRET_EMAIL);
    expect(await topicsOf(kafka)).not.toContain(pipeline.auditTopic);
    expect(await committedCount(targetKafka, pipeline.groupId, shadowTopic(source))).toBe(3);
  });
});

/**
 * TARGET_SCHEMA_REGISTRY_URL: staging has its own registry. Writer schemas are still looked up by id in the
 * source registry; the masked schema is registered in the target registry, and the masked records carry
 * the target registry's id, so staging consumers decode them with staging's registry alone.
 */
describe.skipIf(targetBrokers() === undefined || targetRegistryUrl() === undefined)('separate target cluster and registry', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.reg');
  const target = unique('it.staging.reg');
  let targetKafka: Kafka;
  let targetRegistry: SchemaRegistry;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    targetKafka = testTargetKafka();
    targetRegistry = new SchemaRegistry({ host: targetRegistryUrl()! });
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, [0, 1, 2].map((n) => ({ key: String(n), value: { id: n, email: SECRET_EMAIL } })));
    pipeline = await startTestPipeline({
      route: { name: 'two-registries', source: { topic: source }, target: { topic: target }, policy: 'it-two', key: 'keep' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-two', rules: [] }),
      targetBrokers: targetBrokers()!,
      targetRegistryUrl: targetRegistryUrl()!,
    });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('registers the masked schema in the target registry only', async () => {
    await consumeAll(targetKafka, target, 3, { settleMs: 500 });
    expect(await subjectsOf(targetRegistryUrl()!)).toContain(`${target}-value`);
    expect(await subjectsOf(endpoints().registryUrl)).not.toContain(`${target}-value`);
  });

  it('writes records that staging decodes with its own registry, masked', async () => {
    const out = await consumeAll(targetKafka, target, 3, { settleMs: 1_500 });
    expect(out.map((m) => m.key?.toString())).toEqual(['0', '1', '2']);
    const latest = await targetRegistry.getLatestSchemaId(`${target}-value`);
    for (const m of out) {
      expect(m.value!.readInt32BE(1)).toBe(latest);
      const decoded = (await targetRegistry.decode(m.value!)) as { id: number; email: string };
      expect(decoded.email).toBe('[REDACTED]'); // no rule: onUnmatchedSensitive redacts
    }
  });
});

async function subjectsOf(url: string): Promise<string[]> {
  const res = await fetch(`${url}/subjects`);
  return ((await res.json()) as string[] | null) ?? [];
}
