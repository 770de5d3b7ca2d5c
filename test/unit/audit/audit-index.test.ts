import { describe, expect, it } from 'vitest';
import { encodeAuditEvent, type AuditEvent } from '../../../src/audit/audit-event.js';
import { AuditIndex, auditedRecords } from '../../../src/audit/audit-index.js';
import { parseAuditEvent, recordsAccountedFor } from '../../../src/audit/audit-parse.js';
import { chunk0, chunkEvent, planEvent, quarantined, recordEvent, run } from './audit-events.js';

function indexOf(events: readonly AuditEvent[]): AuditIndex {
  const index = new AuditIndex();
  for (const e of events) index.add(e);
  return index;
}

// The next chunk, added before the first one: the index orders chunks by offset.
const chunk1 = chunkEvent(0, 10, 14, [run('bbbb', 10, 14)], [], { replayed: true });

describe('AuditIndex over chunk events (v2)', () => {
  const index = indexOf([chunk1, planEvent('bbbb', 2), planEvent('aaaa', 1), chunk0, planEvent('aaaa', 1)]);

  it('finds each record of a chunk with its plan, policy version, schema ids and key id', () => {
    expect(index.find('customers', 0, 2n)).toMatchObject({
      outcome: 'masked', planHash: 'aaaa', policy: { name: 'customers-pii', version: 1 },
      schemaId: { source: 11, target: 21 }, keySchemaId: { source: 10, target: 20 }, keyId: 'k2026', target: 'customers.masked',
      from: { type: 'chunk', id: 'customers:0:0-9' },
    });
    // Records after a quarantined one, in a second run of the same plan.
    expect(index.find('customers', 0, 6n)).toMatchObject({ outcome: 'masked', planHash: 'aaaa', policy: { version: 1 } });
    expect(index.find('customers', 0, 9n)).toMatchObject({ outcome: 'masked', planHash: 'bbbb', policy: { version: 2 }, newSchema: true, detections: [{ path: 'note' }] });
    expect(index.find('customers', 0, 12n)).toMatchObject({ planHash: 'bbbb', replayed: true, from: { id: 'customers:0:10-14' } });
  });

  it('tells a quarantined record (its error, no plan, no target) and a tombstone nothing masked', () => {
    const q = index.find('customers', 0, 4n);
    expect(q).toMatchObject({ outcome: 'quarantined', error: { code: 'MASKER_UNTAGGED_PII' } });
    expect(q?.planHash).toBeUndefined();
    expect(q?.policy).toBeUndefined();
    expect(q?.target).toBeUndefined();
    const t = index.find('customers', 0, 8n);
    expect(t).toMatchObject({ outcome: 'tombstone', target: 'customers.masked' });
    expect(t?.planHash).toBeUndefined();
  });

  it('finds nothing outside the chunks, nor in another partition or topic', () => {
    expect(index.find('customers', 0, 15n)).toBeUndefined();
    expect(index.find('customers', 1, 2n)).toBeUndefined();
    expect(index.find('orders', 0, 2n)).toBeUndefined();
    expect(index.chunksOf('customers', 0).map((c) => c.id)).toEqual(['customers:0:0-9', 'customers:0:10-14']);
    expect(index.partitions('customers')).toEqual([0]);
  });

  it('names the plan hash even when the plan event was not read', () => {
    const partial = indexOf([chunk0]);
    const r = partial.find('customers', 0, 1n);
    expect(r).toMatchObject({ outcome: 'masked', planHash: 'aaaa' });
    expect(r?.policy).toBeUndefined();
  });

  it('summarizes a whole range: outcomes, plans with their policy versions, quarantined offsets', () => {
    const s = index.summarize('customers', 0, 0n, 14n);
    expect(s.events).toBe(2);
    expect(s.outcomes).toEqual({ masked: 13, quarantined: 1, tombstone: 1 });
    expect(s.approximate).toBe(false);
    expect([...s.plans].map(([hash, plan]) => [hash, plan?.policy.version])).toEqual([['aaaa', 1], ['bbbb', 2]]);
    expect(s.quarantined.map((r) => [r.offset, r.error?.code])).toEqual([['4', 'MASKER_UNTAGGED_PII']]);
    expect(s.uncovered).toEqual([]);
  });

  it('counts only the records of the range when chunks reach beyond it', () => {
    const s = index.summarize('customers', 0, 3n, 5n);
    expect(s.outcomes).toEqual({ masked: 2, quarantined: 1, tombstone: 0 });
    expect([...s.plans.keys()]).toEqual(['aaaa']);
    const tail = index.summarize('customers', 0, 7n, 11n);
    expect(tail.outcomes).toEqual({ masked: 4, quarantined: 0, tombstone: 1 });
    expect([...tail.plans.keys()]).toEqual(['aaaa', 'bbbb']);
    expect(tail.quarantined).toEqual([]);
  });

  it('says which stretches of a range no event covers', () => {
    expect(index.summarize('customers', 0, 12n, 20n).uncovered).toEqual([{ from: '15', to: '20' }]);
    expect(index.summarize('customers', 0, 30n, 40n)).toMatchObject({ events: 0, outcomes: { masked: 0, quarantined: 0, tombstone: 0 }, uncovered: [{ from: '30', to: '40' }] });
    const holes = indexOf([chunkEvent(0, 5, 6, [run('aaaa', 5, 6)], []), chunkEvent(0, 9, 9, [run('aaaa', 9, 9)], [])]);
    expect(holes.summarize('customers', 0, 0n, 10n).uncovered).toEqual([{ from: '0', to: '4' }, { from: '7', to: '8' }, { from: '10', to: '10' }]);
  });

  it('subtracts tombstones whose key a plan masked from the masked records of a cut range', () => {
    const keyed = indexOf([chunkEvent(1, 0, 3, [run('aaaa', 0, 3)], [{ offset: '1', outcome: 'tombstone' }])]);
    expect(keyed.summarize('customers', 1, 0n, 1n).outcomes).toEqual({ masked: 1, quarantined: 0, tombstone: 1 });
    expect(keyed.find('customers', 1, 1n)).toMatchObject({ outcome: 'tombstone', planHash: 'aaaa' });
  });
});

describe('AuditIndex over a transactional source (offsets that are not records)', () => {
  // 20-21 masked, 22 quarantined, 23 a commit marker, 24-27 masked by one run with a marker at 26 (3 records).
  const chunk = chunkEvent(0, 20, 27, [run('aaaa', 20, 21), run('aaaa', 24, 27, 3)], [quarantined(22)]);
  const index = indexOf([planEvent('aaaa', 1), chunk]);

  it('does not make a record of an offset the chunk holds in no run and no entry', () => {
    expect(index.find('customers', 0, 23n)).toBeUndefined();
    expect(index.chunksAt('customers', 0, 23n).map((c) => c.id)).toEqual(['customers:0:20-27']);
    expect(index.find('customers', 0, 24n)).toMatchObject({ outcome: 'masked', planHash: 'aaaa' });
  });

  it('marks a count approximate where the range cuts a run with offsets that are not records', () => {
    expect(index.summarize('customers', 0, 20n, 27n)).toMatchObject({ outcomes: { masked: 5, quarantined: 1 }, approximate: false });
    const cut = index.summarize('customers', 0, 22n, 25n);
    expect(cut.outcomes).toEqual({ masked: 2, quarantined: 1, tombstone: 0 });
    expect(cut.approximate).toBe(true);
  });
});

describe('AuditIndex over record events (v1)', () => {
  const index = indexOf([
    recordEvent(0),
    recordEvent(1, { outcome: 'quarantined', policy: null, target: null, schemaId: { source: 31, target: null }, fields: [], error: { code: 'MASKER_SCHEMA_NOT_FOUND', message: 'orders/0@1: schema id 99 not found' } }),
    recordEvent(2, { newSchema: true, replayed: true }),
    recordEvent(5, { source: { topic: 'orders', partition: 3, offset: '5' } }),
  ]);

  it('finds a record with its policy (version, disabled rules), schema ids, key id and fields', () => {
    expect(index.find('orders', 0, 0n)).toMatchObject({
      outcome: 'masked', policy: { name: 'orders-pii', version: 7, disabledRules: ['phones'] },
      schemaId: { source: 31, target: 41 }, keySchemaId: { source: 30, target: 40 }, keyId: 'k2025', target: 'orders.masked',
      fields: [{ path: 'customer_id' }], from: { type: 'record', id: 'orders:0:0' },
    });
    expect(index.find('orders', 0, 0n)?.planHash).toBeUndefined();
    expect(index.find('orders', 0, 1n)).toMatchObject({ outcome: 'quarantined', error: { code: 'MASKER_SCHEMA_NOT_FOUND' } });
    expect(index.find('orders', 0, 1n)?.target).toBeUndefined();
    expect(index.find('orders', 0, 2n)).toMatchObject({ newSchema: true, replayed: true });
    expect(index.find('orders', 0, 3n)).toBeUndefined();
    expect(index.partitions('orders')).toEqual([0, 3]);
  });

  it('summarizes a range of record events', () => {
    const s = index.summarize('orders', 0, 0n, 4n);
    expect(s).toMatchObject({ events: 3, outcomes: { masked: 2, quarantined: 1, tombstone: 0 }, approximate: false, uncovered: [{ from: '3', to: '4' }] });
    expect(s.quarantined.map((r) => [r.offset, r.error?.code])).toEqual([['1', 'MASKER_SCHEMA_NOT_FOUND']]);
    expect(s.plans.size).toBe(0);
  });
});

describe('audit runs: the workers and each replay', () => {
  const live = chunkEvent(0, 0, 3, [run('aaaa', 0, 1), run('aaaa', 3, 3)], []);
  const replay = chunkEvent(0, 0, 3, [run('bbbb', 0, 1), run('bbbb', 3, 3)], [], { group: 'masker-replay-x', replayed: true, time: '2026-11-29T00:00:00.000Z' });
  const events: AuditEvent[] = [replay, planEvent('aaaa', 1), planEvent('bbbb', 2), live];
  const index = indexOf(events);

  it('finds the workers\' version of a replayed offset first, and every version with findAll', () => {
    expect(index.find('customers', 0, 1n)).toMatchObject({ planHash: 'aaaa', group: 'masker' });
    expect(index.findAll('customers', 0, 1n).map((r) => [r.group, r.planHash, r.replayed ?? false])).toEqual([['masker', 'aaaa', false], ['masker-replay-x', 'bbbb', true]]);
    expect(index.groupsIn('customers', 0, 0n, 3n)).toEqual(['masker', 'masker-replay-x']);
    expect(index.summarize('customers', 0, 0n, 3n, 'masker-replay-x')).toMatchObject({ events: 1, replayed: true, outcomes: { masked: 3 } });
  });

  it('expands events into one view per audited record, skipping offsets that are no record', () => {
    const records = auditedRecords(events, index);
    expect(records.map((r) => `${r.group}@${r.offset}`)).toEqual(['masker-replay-x@0', 'masker-replay-x@1', 'masker-replay-x@3', 'masker@0', 'masker@1', 'masker@3']);
    expect(events.reduce((n, e) => n + recordsAccountedFor(e), 0)).toBe(6);
  });
});
