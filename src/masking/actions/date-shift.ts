import { MaskerError } from '../../errors.js';
import type { DateShiftParams } from '../policy-params.js';
import type { ActionEnv, CompiledAction } from './action-types.js';
import { isAvroLong, TIMESTAMP_UNITS, unsupported } from './action-types.js';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
/** `YYYY-MM-DD` optionally followed by a time (`T` or space) with optional fraction and offset. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})((?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)$/;

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC, a leap year), in integer arithmetic
 * (H. Hinnant's `days_from_civil`). JS `Date` is not used: `Date.UTC` maps years 0-99 to 1900-1999.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The proleptic Gregorian [year, month, day] of a day number (days since 1970-01-01). */
export function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** 0000-01-01 and 9999-12-31 as day numbers: the dates a four-digit ISO year can write. */
export const FIRST_DAY = daysFromCivil(0, 1, 1);
export const LAST_DAY = daysFromCivil(9999, 12, 31);

/**
 * The shift applied to a date on day `day`: `days`, except that a date within 0000-01-01..9999-12-31 is
 * never moved out of it: it moves by `-days` instead (reflected; |days| ≤ 3650 keeps it inside). Same rule
 * for every representation, so the same calendar day of the same entity always moves by the same amount.
 */
export function effectiveShift(day: number, days: number): number {
  if (day < FIRST_DAY || day > LAST_DAY) return days;
  const target = day + days;
  return target < FIRST_DAY || target > LAST_DAY ? -days : days;
}

/** Floor division of an integer timestamp by a unit, exact for every avsc long (no float rounding). */
function dayOf(value: number, unit: number): number {
  const rest = value % unit;
  return (value - rest) / unit - (rest < 0 ? 1 : 0);
}

/**
 * `date-shift`: moves a date by a whole number of days in [-maxDays, -1] ∪ [1, maxDays], derived from the
 * keyed digest of the entity (the value at `entityPath` in the same row), so every date of one entity
 * moves by the same amount and intervals between them are preserved. Without `entityPath` the shift is
 * the same for the whole domain. Works on `date` ints, timestamp-millis/micros longs (also local-*), and
 * ISO-8601 strings (`2024-03-01`, `2024-03-01T12:30:00Z`, …), whose time and offset text are kept.
 * A date in years 0000-9999 whose shift would leave them is shifted the other way (see `effectiveShift`).
 */
export function compileDateShift(params: DateShiftParams, env: ActionEnv): CompiledAction {
  const s = env.scalar;
  const slot = env.shiftSlot(params.entityPath, params.domain ?? env.rule.name, params.maxDays);
  if (s.scalar === 'int' && s.logicalType === 'date') {
    return {
      op: (value, rt) => {
        const day = value as number;
        const shifted = day + effectiveShift(day, rt.shiftDays(slot));
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
        const time = value as number;
        const shifted = time + effectiveShift(dayOf(time, unit), rt.shiftDays(slot)) * unit;
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

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Shifts the calendar date of an ISO-8601 string by `days` (reflected at the 0000/9999 limits, see
 * `effectiveShift`); everything after the date is kept verbatim.
 */
export function shiftIsoString(text: string, days: number): string {
  const m = ISO_DATE.exec(text);
  if (m === null) throw new MaskerError('MASKER_ACTION', 'value is not an ISO-8601 date (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|±hh:mm])');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new MaskerError('MASKER_ACTION', 'value is not a valid calendar date');
  }
  const base = daysFromCivil(year, month, day);
  const [y, mo, d] = civilFromDays(base + effectiveShift(base, days));
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${m[4] ?? ''}`;
}
