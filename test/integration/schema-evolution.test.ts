import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctRecords, readAudit } from './support/audit.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { consumeAll, createTopics, testKafka, testRegistry, unique } from './support/services.js';

const v1 = {
  type: 'record',
  name: 'Member',
  namespace: 'it.evolution',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};
// v2 adds a sensitive field no rule names: it must be redacted (onUnmatchedSensitive), never passed through.
const v2 = { ...v1, fields: [...v1.fields, { name: 'passport', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] }] };
// v3 changes a field's type: the target subject (BACKWARD) refuses it, so its records are quarantined.
const v3 = { ...v1, fields: [{ name: 'id', type: 'string' }, v1.fields[1]] };

describe('schema evolution on a live route', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.evo.src');
  const target = unique('it.evo.dst');
  let pipeline: TestPipeline;
  const ids: number[] = [];

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    for (const [i, schema] of [v1, v2, v3].entries()) {
      // v3 goes to its own subject: the source registry would refuse it too, but a producer can still send it.
      const subject = i === 2 ? `${source}-v3-value` : `${source}-value`;
      ids.push((await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject })).id);
    }
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: source,
      messages: [
        { value: await registry.encode(ids[0]!, { id: 1, email: 'one@evo.example' }) },
        { value: await registry.encode(ids[0]!, { id: 2, email: 'two@evo.example' }) },
        { value: await registry.encode(ids[1]!, { id: 3, email: 'three@evo.example', passport: 'X1234567' }) },
        { value: await registry.encode(ids[2]!, { id: 'four', email: 'four@evo.example' }) },
        { value: await registry.encode(ids[1]!, { id: 5, email: 'five@evo.example', passport: 'Y7654321' }) },
      ],
    });
    await producer.disconnect();
    pipeline = await startTestPipeline({
      route: { name: 'evolution', source: { topic: source }, target: { topic: target }, policy: 'it-evo' },
      policiesDir: policyFolder({
        apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-evo',
        rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } }],
      }),
    });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('masks records of a new schema version, redacting its new uncovered sensitive field', async () => {
    const out = await consumeAll(kafka, target, 4);
    const values = await Promise.all(out.map(async (m) => (await registry.decode(m.value!)) as { id: number; email: string; passport?: string | null }));
    expect(values.map((v) => v.id)).toEqual([1, 2, 3, 5]);
    const evolved = values.filter((v) => v.id >= 3);
    for (const v of evolved) {
      expect(v.passport).not.toMatch(/^[XY]\d+/);
      expect(v.email).not.toContain('evo.example');
    }
  });

  it('flags the first record of each new schema id in the audit, and quarantines an incompatible one with a clear code', async () => {
    const audit = await readAudit(kafka, pipeline.auditTopic, 5);
    expect(audit.records).toHaveLength(5);
    expect(distinctRecords(audit.records)).toBe(5);
    const events = [...audit.records].sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(events.map((e) => e.outcome)).toEqual(['masked', 'masked', 'masked', 'quarantined', 'masked']);
    expect(events.map((e) => e.newSchema === true)).toEqual([true, false, true, false, false]);
    expect(events[3]!.error?.code).toBe('MASKER_TARGET_SCHEMA_REJECTED');
    // The masked ones name the writer schema they were masked from (the record event in v1, its plan in v2).
    expect([0, 1, 2, 4].map((i) => events[i]!.schemaId?.source)).toEqual([ids[0], ids[0], ids[1], ids[1]]);
    expect(audit.text).not.toContain('evo.example');
    const quarantined = await consumeAll(kafka, pipeline.quarantineTopic, 1);
    expect(quarantined).toHaveLength(1);
  });
});
