import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_HEADER, SOURCE_OFFSET_HEADER, type AuditMode } from '../../src/audit/audit-event.js';
import { QUARANTINE_HEADERS } from '../../src/worker/record-processor.js';
import { readAudit } from './support/audit.js';
import { consumeAll, createTopics, testKafka, testRegistry, unique } from './support/services.js';
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

const wider = {
  type: 'record',
  name: 'Wider',
  namespace: 'it.badinput',
  fields: [...schema.fields, { name: 'extra', type: 'string' }],
};

const listy = {
  type: 'record',
  name: 'Listy',
  namespace: 'it.badinput',
  fields: [{ name: 'id', type: 'long' }, { name: 'emails', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] }],
};

const keySchema = { type: 'record', name: 'Key', namespace: 'it.badinput', fields: [{ name: 'email', type: 'string', 'confluent:tags': ['PII'] }] };

const SECRET_EMAIL = 'leak.me.never@example.org';
const MAX_RECORD_BYTES = 2_000;

function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

// Audit v2 (chunk events, the default) and v1 (one record event per source record, MASKER_AUDIT=record).
describe.each<AuditMode>(['chunk', 'record'])('bad input never reaches the target and is audited with an error code (audit %s)', (auditMode) => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.bad');
  const target = unique('it.staging.bad');
  let pipeline: TestPipeline;

  // One record per class of bad (or awkward) input, with its expected outcome: an error code means
  // quarantined; 'masked' / 'tombstone' mean it reached the target, masked.
  let cases: { label: string; key?: Buffer | null; value: Buffer | null; headers?: Record<string, string>; code: string | null; outcome?: string }[];

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` });
    const good = await registry.encode(id, { id: 7, email: SECRET_EMAIL });
    const { id: widerId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(wider) }, { subject: `${source}-wider-value` });
    const { id: listyId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(listy) }, { subject: `${source}-listy-value` });
    const { id: keyId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(keySchema) }, { subject: `${source}-key` });
    const { id: jsonSchemaId } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify({ type: 'object' }) }, { subject: `${source}-json-value` });
    const avroKey = await registry.encode(keyId, { email: SECRET_EMAIL });
    cases = [
      { label: 'no magic byte', value: Buffer.from(`{"email":"${SECRET_EMAIL}"}`), code: 'MASKER_WIRE_FORMAT' },
      { label: 'shorter than the header', value: Buffer.from([0, 0]), code: 'MASKER_WIRE_FORMAT' },
      { label: 'unknown schema id', value: frame(987_654, good.subarray(5)), code: 'MASKER_SCHEMA_NOT_FOUND' },
      { label: 'truncated Avro body', value: good.subarray(0, good.length - 4), code: 'MASKER_DECODE' },
      { label: 'trailing bytes', value: Buffer.concat([good, Buffer.from([1, 2, 3])]), code: 'MASKER_DECODE' },
      { label: 'wrong schema id for the body', value: frame(widerId, good.subarray(5)), code: 'MASKER_DECODE' },
      // id 7, then an array block claiming 2^29 strings in a 7-byte body: avsc's decoder would try to
      // build that array and run out of heap (a poison pill crashing the worker on every restart).
      { label: 'array block count far beyond the body', value: frame(listyId, Buffer.from([0x0e, 0x80, 0x80, 0x80, 0x80, 0x04, 0x02, 0x41])), code: 'MASKER_DECODE' },
      { label: 'not an Avro schema (JSON Schema id)', value: frame(jsonSchemaId, Buffer.from(`{"email":"${SECRET_EMAIL}"}`)), code: 'MASKER_DECODE' },
      { label: 'oversized record', value: await registry.encode(id, { id: 8, email: `${'x'.repeat(MAX_RECORD_BYTES)}${SECRET_EMAIL}` }), code: 'MASKER_RECORD_TOO_LARGE' },
      { label: 'non-Avro key under key: mask', key: Buffer.from(SECRET_EMAIL), value: good, code: 'MASKER_KEY_FORMAT' },
      { label: 'tombstone with a non-Avro key', key: Buffer.from(SECRET_EMAIL), value: null, code: 'MASKER_KEY_FORMAT' },
      { label: 'tombstone with an Avro key', key: avroKey, value: null, code: null, outcome: 'tombstone' },
      { label: 'PII in headers (headers: drop)', key: avroKey, value: good, headers: { 'x-email': SECRET_EMAIL }, code: null, outcome: 'masked' },
      { label: 'null key, good value', key: null, value: good, code: null, outcome: 'masked' },
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: source, messages: cases.map((c) => ({ key: c.key ?? null, value: c.value, ...(c.headers === undefined ? {} : { headers: c.headers }) })) });
    await producer.disconnect();

    pipeline = await startTestPipeline({
      route: { name: 'bad-input', source: { topic: source }, target: { topic: target }, policy: 'it-bad' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-bad', rules: [] }),
      maxRecordBytes: MAX_RECORD_BYTES,
      auditMode,
    });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('publishes only the acceptable records, masked, without headers (but the lineage one in chunk mode), and nothing raw', async () => {
    const accepted = cases.filter((c) => c.code === null);
    const out = await consumeAll(kafka, target, accepted.length, { settleMs: 2_000 });
    expect(out).toHaveLength(accepted.length);
    for (const message of out) {
      // The source's headers are dropped; audit v2 adds the lineage: plan hash (16 hex digits) and source offset, never a value.
      if (auditMode === 'record') expect(message.headers).toEqual({});
      else {
        expect(Object.keys(message.headers)).toEqual([PLAN_HEADER, SOURCE_OFFSET_HEADER]);
        expect(message.headers[PLAN_HEADER]?.toString()).toMatch(/^[0-9a-f]{16}$/);
        expect(message.headers[SOURCE_OFFSET_HEADER]?.toString()).toMatch(/^\d+$/);
      }
      if (message.value !== null) {
        const masked = (await registry.decode(message.value)) as { id: number; email: string };
        expect(masked.id).toBe(7);
      }
      if (message.key !== null) expect(((await registry.decode(message.key)) as { email: string }).email).not.toBe(SECRET_EMAIL);
    }
    const bytes = Buffer.concat(out.flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0)]));
    expect(bytes.includes(SECRET_EMAIL)).toBe(false);
  });

  it('audits every record exactly once; the bad ones as quarantined with the right code and no value', async () => {
    const audit = await readAudit(kafka, pipeline.auditTopic, cases.length);
    expect(audit.records).toHaveLength(cases.length);
    expect(new Set(audit.records.map((r) => r.offset)).size).toBe(cases.length);
    expect(audit.events.filter((e) => e.type === 'record' || e.type === 'chunk').every((e) => e.type === (auditMode === 'record' ? 'record' : 'chunk'))).toBe(true);
    if (auditMode === 'record') expect(audit.events.filter((e) => e.type === 'record')).toHaveLength(cases.length);
    for (const [i, c] of cases.entries()) {
      const record = audit.records.find((r) => r.offset === String(i));
      expect(record, c.label).toBeDefined();
      if (c.code === null) {
        expect(record!.outcome, c.label).toBe(c.outcome);
        expect(record!.error, c.label).toBeUndefined();
      } else {
        expect(record!.outcome, c.label).toBe('quarantined');
        expect(record!.error?.code, c.label).toBe(c.code);
        // Nothing reached the target: no plan masked it (v2), no target in its event (v1).
        expect(record!.planHash, c.label).toBeUndefined();
        if (auditMode === 'record') {
          const event = audit.events.find((e) => e.type === 'record' && e.source.offset === String(i));
          expect(event, c.label).toMatchObject({ target: null });
        }
      }
    }
    expect(audit.text).not.toContain(SECRET_EMAIL);
  });

  it('sends the bad records, raw and unchanged, to the quarantine topic with the error code in a header', async () => {
    const bad = cases.filter((c) => c.code !== null);
    const quarantined = await consumeAll(kafka, pipeline.quarantineTopic, bad.length);
    expect(quarantined).toHaveLength(bad.length);
    for (const [i, c] of bad.entries()) {
      const q = quarantined[i]!;
      expect(c.value === null ? q.value === null : q.value?.equals(c.value), c.label).toBe(true);
      expect(q.headers[QUARANTINE_HEADERS.code]?.toString(), c.label).toBe(c.code);
      expect(q.headers[QUARANTINE_HEADERS.topic]?.toString()).toBe(source);
    }
  });
});
