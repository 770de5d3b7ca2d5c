import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ibanCheckDigits, luhnCheckDigit } from '../../src/masking/formats/checksums.js';
import { maskRecord } from '../../src/masking/index.js';
import { keyRing, oneField, plan, policy } from '../unit/masking/support.js';

const RUNS = Number(process.env['MASKER_PROPERTY_RUNS'] ?? 150);
const keys = keyRing('scrub-property-secret-01');
const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (n: number): fc.Arbitrary<string> => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''));
const hex = fc.constantFrom(...'0123456789abcdef'.split(''));

/** PII items as people type them: each one must be gone after scrubbing. */
const piiItem = fc.oneof(
  fc.tuple(fc.string({ unit: hex, minLength: 8, maxLength: 12 }), fc.constantFrom('acme.com', 'mail.co.uk', 'example.org'))
    .map(([local, domain]) => `u${local}@${domain}`),
  digits(15).map((body) => {
    const payload = `4${body}`;
    const card = payload + String(luhnCheckDigit(payload));
    return `${card.slice(0, 4)} ${card.slice(4, 8)} ${card.slice(8, 12)} ${card.slice(12)}`;
  }),
  fc.tuple(fc.integer({ min: 1, max: 665 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
    .map(([a, g, s]) => `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`),
  fc.tuple(fc.integer({ min: 2, max: 9 }), digits(2), fc.integer({ min: 2, max: 9 }), digits(6))
    .map(([a, b, c, d]) => `+1 (${a}${b}) ${c}${d.slice(0, 2)}-${d.slice(2)}`),
  fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((o) => o.join('.')),
  digits(18).map((bban) => `DE${ibanCheckDigits('DE', bban)}${bban}`),
  fc.array(fc.string({ unit: hex, minLength: 1, maxLength: 4 }), { minLength: 8, maxLength: 8 }).map((g) => g.join(':')),
);
const word = fc.constantFrom('call', 'me', 'at', 'or', 'paid', 'with', 'from', 'the', 'customer', 'said', 'thanks');
const text = fc.array(fc.tuple(word, piiItem), { minLength: 1, maxLength: 6 });

describe('scrub property', () => {
  for (const replace of ['tag', 'pseudonym'] as const) {
    it(`leaves none of the PII items in free text (replace: ${replace})`, () => {
      const p = plan(oneField('string'), policy([{ name: 'notes', match: { tags: ['PII'] }, action: 'scrub', params: { replace } }]));
      fc.assert(fc.property(text, (parts) => {
        const input = parts.map(([w, item]) => `${w} ${item}`).join(' ');
        const out = (maskRecord(p, { f: input }, keys).value as { f: string }).f;
        for (const [, item] of parts) expect(out).not.toContain(item);
        for (const [w] of parts) expect(out).toContain(w);
      }), { numRuns: RUNS });
    });
  }
});
