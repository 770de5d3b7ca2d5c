import { MaskerError } from '../../errors.js';
import type { DateShiftParams } from '../policy-params.js';
import type { ActionEnv, CompiledAction } from './action-types.js';
import { isAvroLong, TIMESTAMP_UNITS, unsupported } from './action-types.js';

const DAY_MS = 86_400_000;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
/** `YYYY-MM-DD` optionally followed by a time (`T` or space) with optional fraction and offset. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})((?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)$/;

/**
 * `date-shift`: moves a date by a whole number of days in [-maxDays, -1] ∪ [1, maxDays], derived from the
 * keyed digest of the entity (the value at `entityPath` in the same row), so every date of one entity
 * moves by the same amount and intervals between them are preserved. Without `entityPath` the shift is
 * the same for the whole domain. Works on `date` ints, timestamp-millis/micros longs (also local-*), and
 * ISO-8601 strings (`2024-03-01`, `2024-03-01T12:30:00Z`, …), whose time and offset text are kept.
 */
export function compileDateShift(params: DateShiftParams, env: ActionEnv): CompiledAction {
  const s = env.scalar;
  const slot = env.shiftSlot(params.entityPath, params.domain ?? env.rule.name, params.maxDays);
  if (s.scalar === 'int' && s.logicalType === 'date') {
    return {
      op: (value, rt) => {
        const shifted = (value as number) + rt.shiftDays(slot);
        if (shifted < INT_MIN || shifted > INT_MAX) throw new MaskerError('MASKER_ACTION', 'shifted date is out of the int range');
        return shifted;
      },
      costly: false,
    };
  }
  const unit = s.logicalType === undefined ? undefined : TIMESTAMP_UNITS[s.logicalType];
  if (s.scalar === 'long' && unit !== undefined) {
    return {
      op: (value, rt) => {
        const shifted = (value as number) + rt.shiftDays(slot) * unit;
        if (!isAvroLong(shifted)) throw new MaskerError('MASKER_ACTION', 'shifted timestamp is out of the long range');
        return shifted;
      },
      costly: false,
    };
  }
  if (s.scalar === 'string' && s.logicalType === undefined) {
    return { op: (value, rt) => shiftIsoString(value as string, rt.shiftDays(slot)), costly: false };
  }
  return unsupported('int (logicalType date), long (logicalType timestamp-millis/-micros) or an ISO-8601 string');
}

/** Shifts the calendar date of an ISO-8601 string by `days`; everything after the date is kept verbatim. */
export function shiftIsoString(text: string, days: number): string {
  const m = ISO_DATE.exec(text);
  if (m === null) throw new MaskerError('MASKER_ACTION', 'value is not an ISO-8601 date (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|±hh:mm])');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const base = Date.UTC(year, month - 1, day);
  const check = new Date(base);
  if (Number.isNaN(base) || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new MaskerError('MASKER_ACTION', 'value is not a valid calendar date');
  }
  const shifted = new Date(base + days * DAY_MS);
  const y = shifted.getUTCFullYear();
  if (y < 0 || y > 9999) throw new MaskerError('MASKER_ACTION', 'shifted date is outside years 0000-9999');
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  return `${pad(y, 4)}-${pad(shifted.getUTCMonth() + 1, 2)}-${pad(shifted.getUTCDate(), 2)}${m[4] ?? ''}`;
}
