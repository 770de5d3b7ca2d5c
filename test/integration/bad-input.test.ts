import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUARANTINE_HEADERS } from '../../src/worker/record-processor.js';
import { consumeAll, createTopics, deleteTopics, testKafka, testRegistry, unique } from './support/services.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';

const schema = {
  type: 'record',
  name: 'Person',
  namespace: 'it.badinput',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
  ],
};

const SECRET_EMAIL = 'leak.me.never@example.org';

function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

describe('bad input never reaches the target and is audited with an error code', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.bad');
  const target = unique('it.staging.bad');
  let pipeline: TestPipeline;

  // [label, value, expected error code]; the last record is good and must still be masked.
  let cases: { label: string; value: Buffer; code: string | null }[];

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` });
    const good = await registry.encode(id, { id: 7, email: SECRET_EMAIL });
    cases = [
      { label: 'no magic byte', value: Buffer.from(`{"email":"${SECRET_EMAIL}"}`), code: 'MASKER_WIRE_FORMAT' },
      { label: 'shorter than the header', value: Buffer.from([0, 0]), code: 'MASKER_WIRE_FORMAT' },
      { label: 'unknown schema id', value: frame(987_654, good.subarray(5)), code: 'MASKER_SCHEMA_NOT_FOUND' },
      { label: 'truncated Avro body', value: good.subarray(0, good.length - 4), code: 'MASKER_DECODE' },
      { label: 'trailing bytes', value: Buffer.concat([good, Buffer.from([1, 2, 3])]), code: 'MASKER_DECODE' },
      { label: 'good record after the bad ones', value: good, code: null },
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: source, messages: cases.map((c) => ({ key: null, value: c.value })) });
    await producer.disconnect();

    pipeline = await startTestPipeline({
      route: { name: 'bad-input', source: { topic: source }, target: { topic: target }, policy: 'it-bad' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-bad', rules: [] }),
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await deleteTopics(kafka, [source, target, pipeline?.auditTopic ?? '', pipeline?.quarantineTopic ?? ''].filter((t) => t !== ''));
  });

  it('publishes only the good record, masked', async () => {
    const out = await consumeAll(kafka, target, 1, { settleMs: 2_000 });
    expect(out).toHaveLength(1);
    const masked = (await registry.decode(out[0]!.value!)) as { id: number; email: string };
    expect(masked.id).toBe(7);
    expect(masked.email).not.toBe(SECRET_EMAIL);
  });

  it('audits every record; the bad ones as quarantined with the right code and no value', async () => {
    const audit = await consumeAll(kafka, pipeline.auditTopic, cases.length);
    expect(audit).toHaveLength(cases.length);
    const events = audit.map((m) => JSON.parse(m.value!.toString('utf8')) as { outcome: string; source: { offset: string }; error?: { code: string }; target: unknown });
    for (const [i, c] of cases.entries()) {
      const event = events.find((e) => e.source.offset === String(i));
      expect(event, c.label).toBeDefined();
      if (c.code === null) {
        expect(event!.outcome, c.label).toBe('masked');
      } else {
        expect(event!.outcome, c.label).toBe('quarantined');
        expect(event!.error?.code, c.label).toBe(c.code);
        expect(event!.target, c.label).toBeNull();
      }
    }
    const text = audit.map((m) => m.value!.toString('utf8')).join('\n');
    expect(text).not.toContain(SECRET_EMAIL);
  });

  it('sends the bad records, raw and unchanged, to the quarantine topic with the error code in a header', async () => {
    const bad = cases.filter((c) => c.code !== null);
    const quarantined = await consumeAll(kafka, pipeline.quarantineTopic, bad.length);
    expect(quarantined).toHaveLength(bad.length);
    for (const [i, c] of bad.entries()) {
      const q = quarantined[i]!;
      expect(q.value?.equals(c.value), c.label).toBe(true);
      expect(q.headers[QUARANTINE_HEADERS.code]?.toString(), c.label).toBe(c.code);
      expect(q.headers[QUARANTINE_HEADERS.topic]?.toString()).toBe(source);
    }
  });
});
