import type { GeneralizeParams, MaskParams } from '../policy-params.js';
import type { ScalarNode } from '../schema-tree.js';
import type { CompiledAction } from './action-types.js';
import { AVRO_LONG_MAX, isStringLike, unsupported } from './action-types.js';

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * `mask`: replaces characters with `char`, keeping `keepFirst` leading and `keepLast` trailing characters
 * (Unicode code points). When keepFirst + keepLast ≥ length every character is masked, so a short value
 * is never revealed whole. The length is preserved.
 */
export function compileMask(params: MaskParams, scalar: ScalarNode): CompiledAction {
  if (!isStringLike(scalar)) return unsupported('string (not uuid)');
  const { keepFirst, keepLast, char } = params;
  const op = (value: unknown): unknown => {
    const text = value as string;
    if (!SURROGATE.test(text)) return maskUnits(text, keepFirst, keepLast, char);
    const points = Array.from(text);
    if (keepFirst + keepLast >= points.length) return char.repeat(points.length);
    return points.slice(0, keepFirst).join('') + char.repeat(points.length - keepFirst - keepLast) + points.slice(points.length - keepLast).join('');
  };
  return { op, costly: false };
}

function maskUnits(text: string, keepFirst: number, keepLast: number, char: string): string {
  const n = text.length;
  if (keepFirst + keepLast >= n) return char.repeat(n);
  return text.slice(0, keepFirst) + char.repeat(n - keepFirst - keepLast) + text.slice(n - keepLast);
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
