import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_HEADER, SOURCE_OFFSET_HEADER } from '../../src/audit/audit-event.js';
import { MaskerMetrics } from '../../src/observability/metrics.js';
import { readFrame } from '../../src/registry/wire-format.js';
import { readAudit } from './support/audit.js';
import { consumeAll, createTopics, testKafka, testRegistry, unique } from './support/services.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';

const valueSchema = {
  type: 'record',
  name: 'Customer',
  namespace: 'it.masker',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'country', type: 'string' },
    { name: 'phone', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string', 'confluent:tags': ['PII'] },
          { name: 'city', type: 'string' },
        ],
      },
    },
  ],
};

const keySchema = {
  type: 'record',
  name: 'CustomerKey',
  namespace: 'it.masker',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};

interface Customer {
  id: number;
  name: string;
  email: string;
  country: string;
  phone: string | null;
  address: { street: string; city: string };
}

const customers: Customer[] = Array.from({ length: 20 }, (_, i) => ({
  id: 1000 + i,
  name: `Ada Lovelace-${i}`,
  email: `ada.${i}@example.org`,
  country: i % 2 === 0 ? 'GB' : 'FR',
  phone: i % 3 === 0 ? null : `+44 20 7946 0${String(100 + i)}`,
  address: { street: `${12 + i} Analytical Engine Row`, city: 'London' },
}));

const RAW_VALUES = customers.flatMap((c) => [c.name, c.email, c.address.street, ...(c.phone === null ? [] : [c.phone])]);

describe('walking skeleton: one route end to end on real Kafka + registry', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.customers');
  const target = unique('it.staging.customers');
  let pipeline: TestPipeline;
  let valueId: number;
  const metrics = new MaskerMetrics({ defaultMetrics: false });

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    ({ id: valueId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(valueSchema) }, { subject: `${source}-value` }));
    const { id: keyId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(keySchema) }, { subject: `${source}-key` });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: source,
      messages: await Promise.all(customers.map(async (c) => ({
        key: await registry.encode(keyId, { id: c.id, email: c.email }),
        value: await registry.encode(valueId, c),
        headers: { 'x-user-email': c.email, 'trace-id': `t-${c.id}` },
      }))),
    });
    // A tombstone: key only.
    await producer.send({ topic: source, messages: [{ key: await registry.encode(keyId, { id: 1, email: 'gone@example.org' }), value: null }] });
    await producer.disconnect();

    const policiesDir = policyFolder({
      apiVersion: 'masker/v1',
      kind: 'MaskingPolicy',
      name: 'it-skeleton',
      rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person' } }],
    });
    pipeline = await startTestPipeline({
      route: { name: 'customers', source: { topic: source }, target: { topic: target }, policy: 'it-skeleton', headers: 'mask', allowHeaders: ['trace-id'] },
      policiesDir,
      metrics,
    });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('masks tagged fields (nested too), keeps untagged ones, and output decodes with the registered target schema', async () => {
    const out = await consumeAll(kafka, target, customers.length + 1);
    expect(out).toHaveLength(customers.length + 1);
    const values = out.filter((m) => m.value !== null);
    expect(values).toHaveLength(customers.length);

    for (const [i, message] of values.entries()) {
      const original = customers[i]!;
      const frame = readFrame(message.value!, 'target');
      // The target subject has the masked schema registered; the frame names it.
      expect(await registry.getRegistryIdBySchema(`${target}-value`, { type: SchemaType.AVRO, schema: JSON.stringify(valueSchema) })).toBe(frame.schemaId);
      const masked = (await registry.decode(message.value!)) as Customer;
      expect(masked.id).toBe(original.id);
      expect(masked.country).toBe(original.country);
      expect(masked.address.city).toBe(original.address.city);
      expect(masked.name).not.toBe(original.name);
      expect(masked.address.street).not.toBe(original.address.street);
      expect(masked.email).not.toBe(original.email);
      expect(masked.email).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/);
      if (original.phone !== null) expect(masked.phone).not.toBe(original.phone);
      else expect(masked.phone).toBeNull();

      const key = (await registry.decode(message.key!)) as { id: number; email: string };
      expect(key.id).toBe(original.id);
      expect(key.email).not.toBe(original.email);
      // Same input, same key, same domain: the key's email and the value's email pseudonymise alike (joins survive).
      expect(key.email).toBe(masked.email);
      expect(Object.keys(message.headers)).toEqual(['trace-id', PLAN_HEADER, SOURCE_OFFSET_HEADER]);
    }
    const bytes = Buffer.concat(out.flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0)])).toString('latin1');
    for (const raw of RAW_VALUES) expect(bytes).not.toContain(raw);
  });

  it('passes a tombstone through with its key masked', async () => {
    const out = await consumeAll(kafka, target, customers.length + 1);
    const tombstone = out.find((m) => m.value === null);
    expect(tombstone).toBeDefined();
    const key = (await registry.decode(tombstone!.key!)) as { id: number; email: string };
    expect(key.id).toBe(1);
    expect(key.email).not.toBe('gone@example.org');
  });

  it('audits every record exactly once (chunk events naming their plan), with no raw value in it', async () => {
    const audit = await readAudit(kafka, pipeline.auditTopic, customers.length + 1);
    expect(audit.records).toHaveLength(customers.length + 1);
    expect(new Set(audit.records.map((r) => r.offset)).size).toBe(customers.length + 1);
    expect(audit.records.filter((r) => r.outcome === 'masked')).toHaveLength(customers.length);
    expect(audit.records.filter((r) => r.outcome === 'tombstone')).toHaveLength(1);
    const chunk = audit.events.find((e) => e.type === 'chunk');
    expect(chunk).toMatchObject({ schema: 'masker.audit/v2', route: 'customers', group: pipeline.groupId, source: { topic: source, partition: 0, firstOffset: '0' }, target: { topic: target } });
    const first = audit.records[0]!;
    expect(first).toMatchObject({ route: 'customers', offset: '0', newSchema: true, schemaId: { source: valueId }, policy: { name: 'it-skeleton', version: 1 } });
    const plan = audit.index.plan(first.planHash!);
    expect(plan).toMatchObject({ type: 'plan', route: 'customers', keyId: 'default', target: { topic: target } });
    const paths = first.fields!.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'email', 'address.street', 'key:email']));
    for (const raw of RAW_VALUES) expect(audit.text).not.toContain(raw);
  });

  it('marks each masked record with its plan (lineage header)', async () => {
    const out = await consumeAll(kafka, target, customers.length + 1);
    const audit = await readAudit(kafka, pipeline.auditTopic, customers.length + 1);
    for (const m of out) {
      // The record's partition and its source offset header find its audit line; the plan hash names its plan.
      const hash = m.headers[PLAN_HEADER]?.toString();
      const offset = m.headers[SOURCE_OFFSET_HEADER]?.toString();
      expect(audit.index.find(source, m.partition, BigInt(offset!))?.planHash).toBe(hash);
      expect(audit.index.plan(hash!)).toBeDefined();
    }
  });

  it('counts records and masked fields in the Prometheus metrics, with no value in them', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toContain(`masker_records_in_total{route="customers"} ${customers.length + 1}`);
    expect(text).toContain(`masker_records_out_total{route="customers"} ${customers.length + 1}`);
    expect(text).toMatch(/masker_masked_fields_total\{route="customers",action="pseudonymize"\} \d+/);
    expect(text).toMatch(new RegExp(`masker_consumer_lag_records\\{topic="${source.replace(/\./g, '\\.')}",partition="0"\\} 0`));
    for (const raw of RAW_VALUES) expect(text).not.toContain(raw);
  });
});
