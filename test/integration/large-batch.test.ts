import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditMode } from '../../src/audit/audit-event.js';
import { distinctRecords, readAudit } from './support/audit.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { consumeAll, createTopics, produceAvro, testKafka, testRegistry, unique } from './support/services.js';

// 40 tagged fields: small records (~0.5 KB), but each v1 audit event (MASKER_AUDIT=record) lists 40 masked fields (~2.5 KB).
const FIELDS = Array.from({ length: 40 }, (_, i) => `pii_field_${String(i).padStart(2, '0')}`);
const schema = {
  type: 'record',
  name: 'Big',
  namespace: 'it.large',
  fields: [{ name: 'n', type: 'int' }, ...FIELDS.map((name) => ({ name, type: 'string', 'confluent:tags': ['PII'] }))],
};

/**
 * v1 (`record`): a full 500-record transaction's audit events add up to more than the broker's 1 MiB batch
 * limit: it must still commit. v2 (`chunk`, the default): one chunk event per 500-record transaction.
 */
describe.each<AuditMode>(['record', 'chunk'])('full-size transactions (audit %s)', (auditMode) => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.large.src');
  const target = unique('it.large.dst');
  const COUNT = 1_200;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, Array.from({ length: COUNT }, (_, n) => ({ value: { n, ...Object.fromEntries(FIELDS.map((f) => [f, `v${n}`])) } })));
    pipeline = await startTestPipeline({
      route: { name: 'large', source: { topic: source }, target: { topic: target }, policy: 'it-large' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-large', rules: [] }),
      auditMode,
    });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('masks every record in 500-record transactions', async () => {
    const out = await consumeAll(kafka, target, COUNT, { timeoutMs: 90_000 });
    expect(out).toHaveLength(COUNT);
  });

  it('audits every record exactly once', async () => {
    const audit = await readAudit(kafka, pipeline.auditTopic, COUNT, { timeoutMs: 90_000 });
    expect(audit.records).toHaveLength(COUNT);
    expect(distinctRecords(audit.records)).toBe(COUNT);
    expect(audit.records.every((r) => r.outcome === 'masked' && r.from.type === auditMode)).toBe(true);
    const chunks = audit.events.filter((e) => e.type === 'chunk');
    if (auditMode === 'record') expect(chunks).toHaveLength(0);
    // No transaction holds more than 500 records (some may hold fewer: a fetch can end mid-way).
    else expect(chunks.every((c) => c.records <= 500)).toBe(true);
  });
});
