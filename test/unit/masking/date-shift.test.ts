import { describe, expect, it } from 'vitest';
import { shiftIsoString } from '../../../src/masking/actions/date-shift.js';
import { maskRecord } from '../../../src/masking/index.js';
import { keyRing, plan, policy, schema, thrown } from './support.js';

const keys = keyRing();
const DAY_MS = 86_400_000;

const visits = schema({
  type: 'record', name: 'Patient', fields: [
    { name: 'id', type: 'string' },
    { name: 'born', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['PII', 'DATE'] },
    { name: 'admitted', type: { type: 'long', logicalType: 'timestamp-millis' }, 'confluent:tags': ['PII', 'DATE'] },
    { name: 'discharged_us', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null, 'confluent:tags': ['PII', 'DATE'] },
    { name: 'follow_up', type: 'string', 'confluent:tags': ['PII', 'DATE'] },
    { name: 'visits', type: { type: 'array', items: { type: 'int', logicalType: 'date' } }, 'confluent:tags': ['PII', 'DATE'] },
  ],
});
const shift = policy([{ name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { maxDays: 60, entityPath: 'id' } }]);

interface Patient { id: string; born: number; admitted: number; discharged_us: number | null; follow_up: string; visits: number[] }

function patient(id: string, born: number): Patient {
  return { id, born, admitted: (born + 10_000) * DAY_MS + 3_600_000, discharged_us: (born + 10_003) * DAY_MS * 1000, follow_up: '2030-02-27T09:15:00+01:00', visits: [born + 100, born + 200] };
}

describe('date-shift', () => {
  const compiled = plan(visits, shift);

  it('shifts every date of one entity by the same whole number of days, preserving intervals', () => {
    const input = patient('p-1', 5000);
    const out = maskRecord(compiled, input, keys).value as Patient;
    const days = out.born - input.born;
    expect(days).not.toBe(0);
    expect(Math.abs(days)).toBeLessThanOrEqual(60);
    expect(out.admitted - input.admitted).toBe(days * DAY_MS);
    expect((out.discharged_us ?? 0) - (input.discharged_us ?? 0)).toBe(days * DAY_MS * 1000);
    expect(out.visits.map((v, i) => v - input.visits[i]!)).toEqual([days, days]);
    expect(out.follow_up).toBe(shiftIsoString('2030-02-27T09:15:00+01:00', days));
    expect(out.follow_up.slice(10)).toBe('T09:15:00+01:00');
  });

  it('gives the same shift to the same entity in another record, and spreads entities', () => {
    const a = maskRecord(compiled, patient('p-1', 100), keys).value as Patient;
    const b = maskRecord(compiled, patient('p-1', 9000), keys).value as Patient;
    expect(a.born - 100).toBe(b.born - 9000);
    const shifts = new Set(Array.from({ length: 50 }, (_, i) => (maskRecord(compiled, patient(`p-${i}`, 0), keys).value as Patient).born));
    expect(shifts.size).toBeGreaterThan(20);
    expect(shifts.has(0)).toBe(false);
  });

  it('shifts before and after of a Debezium update equally', () => {
    const row = visits.json as { fields: unknown[] };
    const env = schema({
      type: 'record', name: 'Envelope', fields: [
        { name: 'before', type: ['null', { ...row, name: 'Row' }], default: null },
        { name: 'after', type: ['null', 'Row'], default: null },
        { name: 'op', type: 'string' },
      ],
    });
    const p = plan(env, shift, { envelope: 'debezium' });
    const out = maskRecord(p, { before: patient('p-9', 3000), after: patient('p-9', 3000), op: 'u' }, keys).value as { before: Patient; after: Patient };
    expect(out.before.born).toBe(out.after.born);
    expect(out.before.born).not.toBe(3000);
  });

  it('shifts ISO dates across month and leap-year boundaries', () => {
    expect(shiftIsoString('2024-02-28', 1)).toBe('2024-02-29');
    expect(shiftIsoString('2023-12-31 23:59', 1)).toBe('2024-01-01 23:59');
    expect(shiftIsoString('2024-03-01T00:00:00.123Z', -1)).toBe('2024-02-29T00:00:00.123Z');
  });

  it('fails closed on a string that is not an ISO date, naming the field and rule but not the value', () => {
    const err = thrown(() => maskRecord(compiled, { ...patient('p-1', 1), follow_up: 'next tuesday' }, keys));
    expect(err.code).toBe('MASKER_ACTION');
    expect(err.message).toContain('follow_up (rule dates)');
    expect(err.message).not.toContain('tuesday');
  });

  it('refuses plain numbers and unknown entity paths at plan time', () => {
    const s = schema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'long', 'confluent:tags': ['PII'] }, { name: 'id', type: 'long' }] });
    const onLong = thrown(() => plan(s, policy([{ name: 'd', match: { name: 'n' }, action: 'date-shift' }])));
    expect(onLong.message).toMatch(/field n: rule "d" \(date-shift\) cannot apply: expects int \(logicalType date\)/);
    const ts = schema({ type: 'record', name: 'R', fields: [{ name: 't', type: { type: 'long', logicalType: 'timestamp-millis' } }] });
    const badEntity = thrown(() => plan(ts, policy([{ name: 'd', match: { name: 't' }, action: 'date-shift', params: { entityPath: 'customer.id' } }])));
    expect(badEntity.code).toBe('MASKER_PLAN');
    expect(badEntity.message).toMatch(/entityPath customer\.id: no field "customer"/);
  });
});
