import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePlan, maskRecord, parsePolicy } from '../../src/masking/index.js';
import { keyRing } from '../unit/masking/support.js';

/** `mask`: what is kept and where, over random values mixing letters, digits and separators. */

const RUNS = Number(process.env['MASKER_PROPERTY_RUNS'] ?? 300);
const keys = keyRing('mask-property-secret-0123456789');
const json = { type: 'record', name: 'R', fields: [{ name: 'f', type: 'string', 'confluent:tags': ['PII'] }] };
const type = avro.Type.forSchema(json as avro.Schema);
const VALUE_CHAR = /[\p{L}\p{N}\p{M}]/u;

function maskWith(value: string, keepFirst: number, keepLast: number, char: string): string {
  const policy = parsePolicy({
    apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'mask-property',
    rules: [{ name: 'm', match: { tags: ['PII'] }, action: 'mask', params: { keepFirst, keepLast, char } }],
  }, 'mask-property');
  const plan = compilePlan(type, policy, { envelope: 'none', schemaJson: json });
  return (maskRecord(plan, { f: value }, keys).value as { f: string }).f;
}

/** Letters and digits (ASCII and beyond), separators as in IBANs, phones, emails; some astral code points. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcXYZ0123456789') },
  { weight: 3, arbitrary: fc.constantFrom(' ', '-', '.', '@', '/', '(', ')', '+', '_', '\t') },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ß', 'Ж', '٣', '𝒜', '🚀', '\u0301') },
);
const valueArb = fc.array(piece, { minLength: 1, maxLength: 40 }).map((parts) => parts.join(''));

describe('mask (property)', () => {
  it('keeps the length and the separators in place, and exactly keepFirst/keepLast characters of the value', () => {
    fc.assert(fc.property(valueArb, fc.nat(6), fc.nat(6), fc.constantFrom('*', 'X', '#'), (value, keepFirst, keepLast, char) => {
      const input = Array.from(value);
      const output = Array.from(maskWith(value, keepFirst, keepLast, char));
      expect(output.length).toBe(input.length);
      const valueAt = input.map((p) => VALUE_CHAR.test(p));
      const count = valueAt.filter(Boolean).length;
      if (count === 0) {
        // Nothing but separators: masked entirely.
        expect(output.every((p) => p === char)).toBe(true);
        return;
      }
      const keepsNone = keepFirst + keepLast >= count;
      let seen = 0;
      for (let i = 0; i < input.length; i++) {
        if (!valueAt[i]) {
          expect(output[i]).toBe(input[i]); // a separator stays where it was
          continue;
        }
        const kept = !keepsNone && (seen < keepFirst || seen >= count - keepLast);
        seen++;
        expect(output[i]).toBe(kept ? input[i] : char);
      }
      // Never the whole value: at least one character of the value is replaced by the mask character.
      const masked = output.filter((p, i) => valueAt[i] && p === char).length;
      expect(masked).toBeGreaterThanOrEqual(keepsNone ? count : count - keepFirst - keepLast);
      expect(masked).toBeGreaterThan(0);
    }), { numRuns: RUNS });
  });
});
