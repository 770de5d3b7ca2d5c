import type { RedactParams } from '../policy-params.js';
import type { ScalarNode } from '../schema-tree.js';
import type { CompiledAction } from './action-types.js';
import { isAvroLong } from './action-types.js';

type Constant = { value: unknown } | { expects: string };
const unsupported = (expects: string): Constant => ({ expects });

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * `redact`: a type-aware constant. string → "[REDACTED]" (uuid strings → the nil UUID), numbers → 0,
 * boolean → false, bytes → empty (decimal bytes → 0), fixed → zero bytes of the same size, enum → the
 * enum's default symbol, else its first symbol. `replacement` overrides the constant when it fits the type.
 */
export function compileRedact(params: RedactParams, scalar: ScalarNode): CompiledAction {
  const constant = redactConstant(params.replacement, scalar);
  if ('expects' in constant) return constant;
  const value = constant.value;
  if (Buffer.isBuffer(value)) {
    return { op: () => Buffer.from(value), costly: false, constant: true };
  }
  return { op: () => value, costly: false, constant: true };
}

function redactConstant(replacement: RedactParams['replacement'], s: ScalarNode): Constant {
  switch (s.scalar) {
    case 'string':
      if (replacement === undefined) return { value: s.logicalType === 'uuid' ? NIL_UUID : '[REDACTED]' };
      if (typeof replacement !== 'string') return unsupported('a string replacement');
      if (s.logicalType === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(replacement)) {
        return unsupported('a UUID replacement for a uuid string');
      }
      return { value: replacement };
    case 'int':
    case 'long':
    case 'float':
    case 'double': {
      if (replacement === undefined) return { value: 0 };
      if (typeof replacement !== 'number') return unsupported(`a number replacement for ${s.scalar}`);
      if (s.scalar === 'int' && !(Number.isInteger(replacement) && replacement >= INT_MIN && replacement <= INT_MAX)) {
        return unsupported('an int32 replacement');
      }
      if (s.scalar === 'long' && !isAvroLong(replacement)) return unsupported('a replacement within ±(2^53 - 2) for long');
      return { value: replacement };
    }
    case 'boolean':
      if (replacement === undefined) return { value: false };
      return typeof replacement === 'boolean' ? { value: replacement } : unsupported('a boolean replacement');
    case 'enum': {
      const symbols = s.symbols ?? [];
      if (replacement === undefined) {
        const symbol = s.enumDefault ?? symbols[0];
        return symbol === undefined ? unsupported('an enum with at least one symbol') : { value: symbol };
      }
      return typeof replacement === 'string' && symbols.includes(replacement)
        ? { value: replacement }
        : unsupported(`a replacement among the enum symbols (${symbols.join(', ')})`);
    }
    case 'bytes':
      if (replacement !== undefined) return unsupported('no replacement for bytes');
      return { value: s.logicalType === 'decimal' ? Buffer.from([0]) : Buffer.alloc(0) };
    case 'fixed':
      if (replacement !== undefined) return unsupported('no replacement for fixed');
      return { value: Buffer.alloc(s.size ?? 0) };
    case 'null':
      return { value: null };
  }
}

/** `nullify`: null. Applicability (the field must be a union with null) is checked by the plan. */
export function compileNullify(): CompiledAction {
  return { op: () => null, costly: false, constant: true };
}

/** `keep`: explicit pass-through (the decision is still recorded in the audit). */
export function compileKeep(): CompiledAction {
  return { op: (value) => value, costly: false };
}
