import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditMode } from '../../src/audit/audit-event.js';
import { MaskerMetrics } from '../../src/observability/metrics.js';
import { readAudit } from './support/audit.js';
import { consumeAll, createTopics, deleteTopics, produceAvro, testKafka, testRegistry, unique } from './support/services.js';
import { policyFolder, startTestPipeline } from './support/pipeline.js';

/** What the issue saw: a policy covering the tagged email only, PII in an untagged comment and map. */
const schema = {
  type: 'record',
  name: 'Customer',
  namespace: 'it.untagged',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'comment', type: ['null', 'string'], default: null },
    { name: 'extra', type: { type: 'map', values: 'string' }, default: {} },
  ],
};

const RECORDS = 50;

function customer(i: number): Record<string, unknown> {
  const ssn = `${String(100 + i).padStart(3, '0')}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i)}`;
  return {
    id: i,
    email: `tagged.${i}@example.org`,
    comment: i % 5 === 4 ? 'asked for a callback, no details' : `SSN ${ssn}, card 4111 1111 1111 1111, reach me at jane.${i}@mail.example.com`,
    extra: { secondary_email: `second.${i}@corp.example.net`, tier: 'gold' },
  };
}

const RAW = Array.from({ length: RECORDS }, (_, i) => [`jane.${i}@mail.example.com`, `second.${i}@corp.example.net`]).flat().concat(['4111 1111 1111 1111']);

// Each mode under audit v2 (chunk events, the default) and v1 (one record event per source record).
const MODES = (['scrub', 'quarantine', 'alert'] as const).flatMap((onDetected) => (['chunk', 'record'] as AuditMode[]).map((auditMode) => [onDetected, auditMode] as const));

describe.each(MODES)('safety net on a real stream: untagged.onDetected %s (audit %s)', (onDetected, auditMode) => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.untagged');
  const target = unique('it.staging.untagged');
  const metrics = new MaskerMetrics({ defaultMetrics: false });
  let pipeline: Awaited<ReturnType<typeof startTestPipeline>> | undefined;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, Array.from({ length: RECORDS }, (_, i) => ({ key: String(i), value: customer(i) })));
    const policiesDir = policyFolder({
      apiVersion: 'masker/v1',
      kind: 'MaskingPolicy',
      name: 'it-untagged',
      untagged: { onDetected },
      rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } }],
    });
    pipeline = await startTestPipeline({ route: { name: 'untagged', source: { topic: source }, target: { topic: target }, policy: 'it-untagged', key: 'keep' }, policiesDir, metrics, auditMode });
  });

  afterAll(async () => {
    await pipeline?.dispose();
    await deleteTopics(kafka, [source, target]);
  });

  it('does what the policy says with PII in untagged fields, audits field and detector, never a value', async () => {
    const read = await readAudit(kafka, pipeline!.auditTopic, RECORDS);
    const audit = read.records;
    expect(audit).toHaveLength(RECORDS);
    expect(new Set(audit.map((e) => e.offset)).size).toBe(RECORDS);
    expect(audit.every((e) => e.from.type === auditMode)).toBe(true);
    const withPii = audit.filter((e) => Number(e.offset) % 5 !== 4);
    const clean = audit.filter((e) => Number(e.offset) % 5 === 4);
    for (const raw of RAW) expect(read.text).not.toContain(raw);

    if (onDetected === 'quarantine') {
      // Every record's map holds an email: all are quarantined, none reaches the target.
      expect(audit.every((e) => e.outcome === 'quarantined' && e.error?.code === 'MASKER_UNTAGGED_PII')).toBe(true);
      expect(audit.every((e) => e.detections?.length === 1 && e.detections[0]!.outcome === 'quarantined')).toBe(true);
      expect(await consumeAll(kafka, pipeline!.quarantineTopic, RECORDS)).toHaveLength(RECORDS);
      // The first field that holds PII fails the record: the comment (3 detectors), or the map when the comment is clean.
      for (const e of withPii) expect(e.detections).toEqual([{ path: 'comment', detectors: ['email', 'credit-card', 'ssn'], outcome: 'quarantined' }]);
      for (const e of clean) expect(e.detections).toEqual([{ path: 'extra{}', detectors: ['email'], outcome: 'quarantined' }]);
      const metric = await metrics.untaggedPii.get();
      expect(metric.values.reduce((n, v) => n + v.value, 0)).toBe(withPii.length * 3 + clean.length);
      return;
    }

    const outcome = onDetected === 'scrub' ? 'scrubbed' : 'alerted';
    for (const e of withPii) {
      expect(e.outcome).toBe('masked');
      expect(e.detections).toEqual([
        { path: 'comment', detectors: ['email', 'credit-card', 'ssn'], outcome },
        { path: 'extra{}', detectors: ['email'], outcome },
      ]);
    }
    for (const e of clean) expect(e.detections).toEqual([{ path: 'extra{}', detectors: ['email'], outcome }]);

    const out = await consumeAll(kafka, target, RECORDS);
    const values = await Promise.all(out.map(async (m) => (await registry.decode(m.value!)) as { comment: string | null; extra: Record<string, string> }));
    const targetText = JSON.stringify(values);
    if (onDetected === 'scrub') {
      for (const raw of RAW) expect(targetText).not.toContain(raw);
      expect(values[0]!.comment).toBe('SSN [SSN], card [CREDIT_CARD], reach me at [EMAIL]');
      expect(values[0]!.extra).toEqual({ secondary_email: '[EMAIL]', tier: 'gold' });
    } else {
      // alert: passes through — the team chose it — but counted and audited for every record.
      expect(values[0]!.comment).toBe(customer(0)['comment']);
    }
    const metric = await metrics.untaggedPii.get();
    const count = (field: string, detector: string): number =>
      metric.values.filter((v) => v.labels['field'] === field && v.labels['detector'] === detector && v.labels['outcome'] === outcome).reduce((n, v) => n + v.value, 0);
    expect(count('extra{}', 'email')).toBe(RECORDS);
    expect(count('comment', 'credit-card')).toBe(withPii.length);
  });
});
