import type { KeyedHasher } from '../crypto/keyed-hash.js';
import { expandDigest, readU32, readU53 } from '../crypto/keyed-hash.js';
import { fakeUuid, normalizeForFormat, PSEUDONYM_GENERATORS } from '../formats/pseudonyms.js';
import type { HashParams, PseudonymizeParams } from '../policy-params.js';
import type { ScalarNode } from '../schema-tree.js';
import type { ActionEnv, CompiledAction } from './action-types.js';
import { AVRO_LONG_MAX, unsupported } from './action-types.js';

/** Digest of any scalar value: strings and enum symbols as UTF-8, bytes/fixed raw, numbers in decimal. */
function digestOf(hasher: KeyedHasher, value: unknown): Uint8Array {
  if (typeof value === 'string') return hasher.digestString(value);
  if (value instanceof Uint8Array) return hasher.digestBytes(value);
  return hasher.digestString(String(value));
}

function encodeDigest(digest: Uint8Array, encoding: HashParams['encoding']): string {
  const buf = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
  if (encoding === 'hex') return buf.toString('hex');
  return buf.toString(encoding).replace(/=+$/, '');
}

/**
 * `hash`: keyed HMAC-SHA256 (see KeyedHasher), shaped to the field's type:
 * string → hex/base64/base64url text (truncated to `length` characters; uuid strings → a UUID),
 * bytes → the digest (`length` bytes, default 32), fixed → `size` bytes, int → [0, 2^31),
 * long → [0, 2^53 - 2] (what avsc accepts), float/double → an integer in [0, 2^24), enum → a symbol chosen by the digest.
 * boolean and decimal fields are refused (a hash of them reveals too much or breaks precision).
 */
export function compileHash(params: HashParams, env: ActionEnv): CompiledAction {
  const s = env.scalar;
  const slot = env.domainSlot(params.domain ?? env.rule.name);
  if (s.logicalType === 'decimal') return unsupported('not a decimal (use redact)');
  const withDigest = (shape: (d: Uint8Array) => unknown): CompiledAction => ({
    op: (value, rt) => shape(digestOf(rt.hasher(slot), value)),
    costly: true,
  });
  switch (s.scalar) {
    case 'string': {
      if (s.logicalType === 'uuid') return withDigest(fakeUuid);
      const length = params.length;
      return withDigest((d) => {
        const text = encodeDigest(d, params.encoding);
        return length === undefined ? text : text.slice(0, length);
      });
    }
    case 'bytes': {
      const size = params.length ?? 32;
      return withDigest((d) => expandDigest(d, size));
    }
    case 'fixed': {
      const size = s.size ?? 0;
      return withDigest((d) => expandDigest(d, size));
    }
    case 'int':
      return withDigest((d) => readU32(d, 0) & 0x7fffffff);
    case 'long':
      return withDigest((d) => readU53(d, 0) % (AVRO_LONG_MAX + 1));
    case 'float':
    case 'double':
      return withDigest((d) => readU32(d, 0) >>> 8);
    case 'enum': {
      const symbols = s.symbols ?? [];
      if (symbols.length === 0) return unsupported('an enum with symbols');
      return withDigest((d) => symbols[readU32(d, 0) % symbols.length]);
    }
    default:
      return unsupported('string, bytes, fixed, int, long, float, double or enum');
  }
}

/**
 * `pseudonymize`: a realistic, format-valid fake from the keyed digest of the normalised input. Strings
 * only; a uuid string accepts only `format: uuid`.
 */
export function compilePseudonymize(params: PseudonymizeParams, env: ActionEnv): CompiledAction {
  const s: ScalarNode = env.scalar;
  if (s.scalar !== 'string') return unsupported('string');
  if (s.logicalType === 'uuid' && params.format !== 'uuid') return unsupported('format uuid for a uuid string');
  const slot = env.domainSlot(params.domain ?? env.rule.name);
  const format = params.format;
  const generate = PSEUDONYM_GENERATORS[format];
  return {
    op: (value, rt) => generate(rt.hasher(slot).digestString(normalizeForFormat(format, value as string))),
    costly: true,
  };
}
