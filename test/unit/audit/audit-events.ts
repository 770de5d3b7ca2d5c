import {
  AUDIT_SCHEMA_VERSION,
  AUDIT_V2_SCHEMA_VERSION,
  type ChunkAuditEvent,
  type ChunkEntry,
  type PlanAuditEvent,
  type PlanRun,
  type RecordAuditEvent,
} from '../../../src/audit/audit-event.js';

/** Hand-made audit events (as the worker writes them) for AuditIndex and `masker audit` tests. */

export const TIME = '2026-11-28T12:00:00.000Z';

export function planEvent(plan: string, version: number, extra: Partial<PlanAuditEvent> = {}): PlanAuditEvent {
  return {
    schema: AUDIT_V2_SCHEMA_VERSION,
    type: 'plan',
    id: `plan:${plan}`,
    time: TIME,
    route: 'customers',
    plan,
    source: { topic: 'customers' },
    target: { topic: 'customers.masked' },
    schemaId: { source: 11, target: 21 },
    keySchemaId: { source: 10, target: 20 },
    policy: { name: 'customers-pii', version, sha256: `${version}`.repeat(64).slice(0, 64) },
    keyId: 'k2026',
    fields: [{ path: 'email', action: 'pseudonymize', rule: 'emails' }, { path: 'key:id', action: 'pseudonymize', rule: 'ids' }],
    ...extra,
  };
}

export function chunkEvent(partition: number, first: number, last: number, plans: readonly PlanRun[], entries: readonly ChunkEntry[], extra: Partial<ChunkAuditEvent> = {}): ChunkAuditEvent {
  const count = (o: string): number => entries.filter((e) => e.outcome === o).length;
  const tombstonesInRuns = entries.filter((e) => e.outcome === 'tombstone' && plans.some((r) => Number(r.firstOffset) <= Number(e.offset) && Number(e.offset) <= Number(r.lastOffset))).length;
  const masked = plans.reduce((n, r) => n + r.records, 0) - tombstonesInRuns;
  return {
    schema: AUDIT_V2_SCHEMA_VERSION,
    type: 'chunk',
    id: `customers:${partition}:${first}-${last}`,
    time: TIME,
    route: 'customers',
    group: 'masker',
    source: { topic: 'customers', partition, firstOffset: String(first), lastOffset: String(last) },
    target: { topic: 'customers.masked' },
    records: masked + count('quarantined') + count('tombstone'),
    outcomes: { masked, quarantined: count('quarantined'), tombstone: count('tombstone') },
    plans,
    entries,
    ...extra,
  };
}

export function run(plan: string, first: number, last: number, records = last - first + 1): PlanRun {
  return { plan, firstOffset: String(first), lastOffset: String(last), records };
}

export function quarantined(offset: number, code = 'MASKER_UNTAGGED_PII'): ChunkEntry {
  return { offset: String(offset), outcome: 'quarantined', error: { code, message: `customers/0@${offset}: untagged PII in value.note (detectors: email)` } };
}

export function recordEvent(offset: number, extra: Partial<RecordAuditEvent> = {}): RecordAuditEvent {
  return {
    schema: AUDIT_SCHEMA_VERSION,
    type: 'record',
    id: `orders:0:${offset}`,
    time: TIME,
    route: 'orders',
    source: { topic: 'orders', partition: 0, offset: String(offset) },
    target: { topic: 'orders.masked' },
    schemaId: { source: 31, target: 41 },
    keySchemaId: { source: 30, target: 40 },
    policy: { name: 'orders-pii', version: 7, sha256: 'c'.repeat(64), disabledRules: ['phones'] },
    keyId: 'k2025',
    outcome: 'masked',
    fields: [{ path: 'customer_id', action: 'pseudonymize', rule: 'ids' }],
    ...extra,
  };
}

// Partition 0: plan A masks 0-3, 4 is quarantined, A masks 5-7, 8 is a tombstone nothing masked (key kept),
// 9 is the first record of a new writer schema, masked by plan B (policy version 2).
export const chunk0 = chunkEvent(0, 0, 9, [run('aaaa', 0, 3), run('aaaa', 5, 7), run('bbbb', 9, 9)], [
  quarantined(4),
  { offset: '8', outcome: 'tombstone' },
  { offset: '9', outcome: 'masked', newSchema: true, detections: [{ path: 'note', detectors: ['email'], outcome: 'scrubbed' }] },
]);
