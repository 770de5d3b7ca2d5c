import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shiftIsoString } from '../../../src/masking/actions/date-shift.js';
import { maskEncoded, maskRecord } from '../../../src/masking/index.js';
import { referenceMaskBody, wrappedType } from '../../property/reference-masker.js';
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

/**
 * Test oracle, independent of the code under test: `Date#setUTCFullYear` takes years 0-99 literally
 * (unlike `Date.UTC`), and `toISOString` writes years 0000-9999 with four digits.
 */
function dayNumber(iso: string): number {
  const d = new Date(0);
  d.setUTCFullYear(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)));
  return Math.round(d.getTime() / DAY_MS);
}
function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
const FIRST_DAY = dayNumber('0000-01-01');
const LAST_DAY = dayNumber('9999-12-31');
/** The documented rule: a date in 0000-9999 that a shift would move out of that range moves the other way. */
function expectedShift(day: number, days: number): number {
  if (day < FIRST_DAY || day > LAST_DAY) return days;
  return day + days < FIRST_DAY || day + days > LAST_DAY ? -days : days;
}

describe('date-shift at the edges of years 0000-9999', () => {
  it('has an oracle that knows the calendar (sanity of the test itself)', () => {
    expect(FIRST_DAY).toBe(-719_528);
    expect(LAST_DAY).toBe(2_932_896);
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(isoDate(dayNumber('0001-01-01'))).toBe('0001-01-01');
  });

  it.each<[string, number, string]>([
    ['0001-01-01', 1, '0001-01-02'],
    ['0001-01-01', -1, '0000-12-31'],
    ['0001-01-01', -366, '0000-01-01'],
    ['0000-01-01', 1, '0000-01-02'],
    ['0000-03-01', -1, '0000-02-29'],
    ['0004-02-28', 1, '0004-02-29'],
    ['0004-02-29', 1, '0004-03-01'],
    ['0099-12-31', 1, '0100-01-01'],
    ['0100-01-01', -1, '0099-12-31'],
    ['0100-02-28', 1, '0100-03-01'],
    ['0050-06-15', 30, '0050-07-15'],
    ['1899-12-31', 1, '1900-01-01'],
    ['1900-02-28', 1, '1900-03-01'],
    ['1900-01-01', -1, '1899-12-31'],
    ['2000-02-28', 1, '2000-02-29'],
    ['2000-02-29', 365, '2001-02-28'],
    ['1969-12-31', 1, '1970-01-01'],
    ['1970-01-01', -1, '1969-12-31'],
    ['9999-12-30', 1, '9999-12-31'],
    ['9999-12-31', -3650, '9990-01-02'],
    ['0012-03-04', 3650, '0022-03-02'],
  ])('%s shifted by %i days is %s', (input, days, expected) => {
    expect(shiftIsoString(input, days)).toBe(expected);
    expect(dayNumber(expected) - dayNumber(input)).toBe(days);
  });

  it('keeps the time and offset text of date-times in years 0000-0099', () => {
    expect(shiftIsoString('0001-01-01T00:00:00Z', 2)).toBe('0001-01-03T00:00:00Z');
    expect(shiftIsoString('0001-01-01 00:00:00.0000000', 1)).toBe('0001-01-02 00:00:00.0000000');
    expect(shiftIsoString('0099-12-31T23:59:59,999999999-08:00', 1)).toBe('0100-01-01T23:59:59,999999999-08:00');
    expect(shiftIsoString('0004-02-29T12:00+0530', -60)).toBe('0003-12-31T12:00+0530');
  });

  it('shifts a date the other way when the shift would leave years 0000-9999 (reflected, never clamped)', () => {
    expect(shiftIsoString('0000-01-01', -5)).toBe('0000-01-06');
    expect(shiftIsoString('0000-01-03T08:00:00Z', -3)).toBe('0000-01-06T08:00:00Z');
    expect(shiftIsoString('0000-01-03', -2)).toBe('0000-01-01');
    expect(shiftIsoString('9999-12-31', 5)).toBe('9999-12-26');
    expect(shiftIsoString('9999-12-31T23:59:59.999+14:00', 1)).toBe('9999-12-30T23:59:59.999+14:00');
    expect(shiftIsoString('9999-12-29', 2)).toBe('9999-12-31');
    expect(shiftIsoString('9999-12-29', 3)).toBe('9999-12-26');
    expect(shiftIsoString('9999-06-01', 3650)).toBe('9989-06-03');
  });

  it.each(['0001-02-29', '1900-02-29', '2023-02-29', '2023-13-01', '2023-00-10', '2023-01-00', '2023-04-31', '0000-00-00'])(
    'refuses %s, which is not a calendar date', (input) => {
      const err = thrown(() => shiftIsoString(input, 1));
      expect(err.code).toBe('MASKER_ACTION');
      expect(err.message).not.toContain(input);
    });

  const reps = schema({
    type: 'record', name: 'Reps', fields: [
      { name: 'id', type: 'string' },
      { name: 'probe', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['DATE'] },
      { name: 'day', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['DATE'] },
      { name: 'text', type: 'string', 'confluent:tags': ['DATE'] },
      { name: 'dated', type: 'string', 'confluent:tags': ['DATE'] },
      { name: 'ms', type: { type: 'long', logicalType: 'timestamp-millis' }, 'confluent:tags': ['DATE'] },
      { name: 'local_ms', type: { type: 'long', logicalType: 'local-timestamp-millis' }, 'confluent:tags': ['DATE'] },
    ],
  });
  interface Reps { id: string; probe: number; day: number; text: string; dated: string; ms: number; local_ms: number }
  const repsPlan = plan(reps, policy([{ name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { maxDays: 3650, entityPath: 'id' } }]));
  const edgeDays = ['0000-01-01', '0000-02-29', '0001-01-01', '0004-02-29', '0099-12-31', '0100-01-01', '1899-12-31', '1900-02-28',
    '1969-12-31', '1970-01-01', '2000-02-29', '9990-01-01', '9999-12-31'];

  it.each(edgeDays)('moves %s by the same number of days as a date int, a date string and millis timestamps', (iso) => {
    const day = dayNumber(iso);
    const signs = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const input: Reps = {
        id: `e-${i}`, probe: 0, day, text: `${iso}T23:59:59.999Z`, dated: iso,
        ms: day * DAY_MS + DAY_MS - 1, local_ms: day * DAY_MS,
      };
      const out = maskRecord(repsPlan, input, keys).value as Reps;
      const days = out.probe;
      signs.add(Math.sign(days));
      const moved = expectedShift(day, days);
      expect(Math.abs(moved)).toBe(Math.abs(days));
      expect(out.day - day).toBe(moved);
      expect(out.dated).toBe(isoDate(day + moved));
      expect(out.text).toBe(`${isoDate(day + moved)}T23:59:59.999Z`);
      expect(out.ms - input.ms).toBe(moved * DAY_MS);
      expect(out.local_ms - input.local_ms).toBe(moved * DAY_MS);
      const body = reps.type.toBuffer(input);
      expect(Buffer.compare(maskEncoded(repsPlan, body, keys).bytes, reps.type.toBuffer(out))).toBe(0);
      expect(Buffer.compare(referenceMaskBody(repsPlan, wrappedType(reps.json), body, keys).bytes, reps.type.toBuffer(out))).toBe(0);
    }
    expect(signs).toEqual(new Set([-1, 1]));
  });

  it('takes the day of a millis timestamp by floor division, also before the epoch and at the limits', () => {
    const s = schema({
      type: 'record', name: 'T', fields: [
        { name: 'id', type: 'string' },
        { name: 'probe', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['DATE'] },
        { name: 't', type: { type: 'long', logicalType: 'timestamp-millis' }, 'confluent:tags': ['DATE'] },
      ],
    });
    const p = plan(s, policy([{ name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { maxDays: 10, entityPath: 'id' } }]));
    const cases = [-1, 0, FIRST_DAY * DAY_MS, FIRST_DAY * DAY_MS - 1, FIRST_DAY * DAY_MS + 1, (LAST_DAY + 1) * DAY_MS - 1, (LAST_DAY + 1) * DAY_MS];
    for (let i = 0; i < 16; i++) {
      for (const t of cases) {
        const out = maskRecord(p, { id: `e-${i}`, probe: 0, t }, keys).value as { probe: number; t: number };
        expect(out.t - t).toBe(expectedShift(Math.floor(t / DAY_MS), out.probe) * DAY_MS);
      }
    }
  });

  it('shifts negative date ints and micros timestamps across the epoch by whole days', () => {
    const s = schema({
      type: 'record', name: 'U', fields: [
        { name: 'id', type: 'string' },
        { name: 'probe', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['DATE'] },
        { name: 'd', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['DATE'] },
        { name: 'us', type: { type: 'long', logicalType: 'timestamp-micros' }, 'confluent:tags': ['DATE'] },
        { name: 'local_us', type: { type: 'long', logicalType: 'local-timestamp-micros' }, 'confluent:tags': ['DATE'] },
      ],
    });
    const p = plan(s, policy([{ name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { maxDays: 30, entityPath: 'id' } }]));
    const DAY_US = DAY_MS * 1000;
    for (let i = 0; i < 16; i++) {
      for (const [d, us] of [[-1, -1], [-25_567, -1_000_000], [-719_162, 1], [-800_000, DAY_US - 1]] as const) {
        const out = maskRecord(p, { id: `e-${i}`, probe: 0, d, us, local_us: us }, keys).value as { probe: number; d: number; us: number; local_us: number };
        expect(out.d - d).toBe(expectedShift(d, out.probe));
        expect(out.us - us).toBe(out.probe * DAY_US);
        expect(out.local_us - us).toBe(out.probe * DAY_US);
      }
    }
  });

  it('property: a date string in 0000-9999 moves by the entity\'s whole-day shift, re-parses, and keeps its time text', () => {
    const suffixes = ['', 'T00:00', ' 12:30', 'T23:59:59', 'T08:00:00Z', 'T08:00:00.1+01:00', ' 00:00:00,123456789-0930', 'T12:00:00+05'];
    const arbitrary = fc.record({
      day: fc.integer({ min: FIRST_DAY, max: LAST_DAY }),
      suffix: fc.constantFrom(...suffixes),
      entity: fc.string({ maxLength: 12 }),
      domain: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
      maxDays: fc.integer({ min: 1, max: 3650 }),
    });
    const s = schema({
      type: 'record', name: 'P', fields: [
        { name: 'id', type: 'string' },
        { name: 'probe', type: { type: 'int', logicalType: 'date' }, 'confluent:tags': ['DATE'] },
        { name: 'text', type: 'string', 'confluent:tags': ['DATE'] },
      ],
    });
    fc.assert(fc.property(arbitrary, ({ day, suffix, entity, domain, maxDays }) => {
      const p = plan(s, policy([{ name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { maxDays, entityPath: 'id', domain } }]));
      const text = `${isoDate(day)}${suffix}`;
      const out = maskRecord(p, { id: entity, probe: 0, text }, keys).value as { probe: number; text: string };
      const days = out.probe;
      expect(Number.isInteger(days) && days !== 0 && Math.abs(days) <= maxDays).toBe(true);
      expect(out.text.slice(10)).toBe(suffix);
      const outDay = dayNumber(out.text);
      expect(isoDate(outDay)).toBe(out.text.slice(0, 10));
      expect(outDay - day).toBe(expectedShift(day, days));
      expect(outDay >= FIRST_DAY && outDay <= LAST_DAY).toBe(true);
      expect(shiftIsoString(out.text, 0)).toBe(out.text);
    }), { numRuns: 300 });
  });
});
