import type { GeneralizeParams, MaskParams } from '../policy-params.js';
import type { ScalarNode } from '../schema-tree.js';
import type { CompiledAction } from './action-types.js';
import { AVRO_LONG_MAX, isStringLike, unsupported } from './action-types.js';

const SURROGATE = /[\uD800-\uDFFF]/;

/** Characters of the value itself: letters, digits and combining marks. Everything else is a separator. */
const VALUE_CHAR = /[\p{L}\p{N}\p{M}]/u;
/** Fast check: ASCII text with nothing but letters and digits (no separator to keep in place). */
const ASCII_ALNUM = /^[A-Za-z0-9]*$/;

/**
 * `mask`: replaces the characters of the value with `char`, keeping `keepFirst` leading and `keepLast`
 * trailing ones. Only letters and digits (Unicode code points; combining marks too) count as characters of
 * the value: separators (spaces, `-`, `.`, `@`, `/`, …) stay where they are and are never counted, so
 * `DE89 3704 0044 0532 0130 00` with keepLast 4 keeps `0130 00`'s last four digits, `30 00`. When
 * keepFirst + keepLast ≥ the count every character of the value is masked, so a short value is never
 * revealed whole; a value with no letter or digit at all is masked entirely. The length (in code points)
 * is preserved.
 */
export function compileMask(params: MaskParams, scalar: ScalarNode): CompiledAction {
  if (!isStringLike(scalar)) return unsupported('string (not uuid)');
  const { keepFirst, keepLast, char } = params;
  const op = (value: unknown): unknown => {
    const text = value as string;
    if (ASCII_ALNUM.test(text)) return maskUnits(text, keepFirst, keepLast, char);
    return maskSeparated(SURROGATE.test(text) ? Array.from(text) : text.split(''), keepFirst, keepLast, char);
  };
  return { op, costly: false };
}

function maskUnits(text: string, keepFirst: number, keepLast: number, char: string): string {
  const n = text.length;
  if (keepFirst + keepLast >= n) return char.repeat(n);
  return text.slice(0, keepFirst) + char.repeat(n - keepFirst - keepLast) + text.slice(n - keepLast);
}

/** `points`: the code points of the value. Separators are copied; characters of the value counted and masked. */
function maskSeparated(points: readonly string[], keepFirst: number, keepLast: number, char: string): string {
  const isValue = points.map((p) => VALUE_CHAR.test(p));
  let count = 0;
  for (const v of isValue) if (v) count++;
  if (count === 0) return char.repeat(points.length); // nothing but separators: nothing to keep
  const keepNone = keepFirst + keepLast >= count;
  let out = '';
  let seen = 0;
  for (let i = 0; i < points.length; i++) {
    const point = points[i] ?? '';
    if (!isValue[i]) {
      out += point;
      continue;
    }
    const kept = !keepNone && (seen < keepFirst || seen >= count - keepLast);
    seen++;
    out += kept ? point : char;
  }
  return out;
}

const INT_MIN = -2147483648;

/**
 * `generalize`: `bucket` rounds numbers down to a multiple of the bucket (ints/longs need an integer
 * bucket; dates and timestamps are generalised in their raw unit); `keepPrefix` keeps the first N
 * characters of a string and drops the rest (`94107` → `941`).
 */
export function compileGeneralize(params: GeneralizeParams, scalar: ScalarNode): CompiledAction {
  if (params.keepPrefix !== undefined) {
    if (!isStringLike(scalar)) return unsupported('string (not uuid) for keepPrefix');
    const n = params.keepPrefix;
    return {
      op: (value) => {
        const text = value as string;
        return SURROGATE.test(text) ? Array.from(text).slice(0, n).join('') : text.slice(0, n);
      },
      costly: false,
    };
  }
  const bucket = params.bucket ?? 1;
  switch (scalar.scalar) {
    case 'int':
    case 'long': {
      if (!Number.isInteger(bucket)) return unsupported(`an integer bucket for ${scalar.scalar}`);
      const min = scalar.scalar === 'int' ? INT_MIN : -AVRO_LONG_MAX;
      return { op: (value) => Math.max(min, Math.floor((value as number) / bucket) * bucket), costly: false };
    }
    case 'float':
    case 'double':
      return { op: (value) => Math.floor((value as number) / bucket) * bucket, costly: false };
    default:
      return unsupported('int, long, float or double for bucket');
  }
}
