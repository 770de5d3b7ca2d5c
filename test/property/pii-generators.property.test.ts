import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from '../../src/masking/formats/checksums.js';
import { findingTag } from '../../src/masking/formats/detectors.js';
import { PSEUDONYM_GENERATORS } from '../../src/masking/formats/pseudonyms.js';
import type { DetectorName } from '../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../src/masking/index.js';
import type { PiiValue } from './pii-generators.js';
import { IBAN_FORMATS, PII_ARBITRARIES } from './pii-generators.js';
import type { Note } from './pii-glue.js';
import { glueOnlyText, noteArb, noteText, noteValues } from './pii-glue.js';
import { evidenceWindows, findLeaks } from './scrub-oracle.js';

/**
 * The attack on `scrub` (scrub-attack.property.test.ts) is only as fair as its generators and its oracle:
 * every generated value must be valid for its kind, a scrubber that removes exactly the embedded values
 * must pass, and one that removes nothing must fail on every value that can be checked.
 */

const RUNS = Number(process.env['MASKER_PROPERTY_RUNS'] ?? 300);
const SAMPLES = 600;

const VALID: Readonly<Record<DetectorName, (value: string) => boolean>> = {
  email: (v) => /^[^@\s]+@(?:[^@\s.]+\.)+\p{L}{2,}$/u.test(v),
  phone: (v) => {
    const digits = v.replace(/\D/g, '').length;
    return /^\+?[\d (). -]+$/.test(v) && /\d$/.test(v) && digits >= 7 && digits <= 15;
  },
  ssn: (v) => {
    const m = /^(\d{3})([- ])(\d{2})\2(\d{4})$/.exec(v);
    return m !== null && !['000', '666'].includes(m[1]!) && !m[1]!.startsWith('9') && m[3] !== '00' && m[4] !== '0000';
  },
  'credit-card': (v) => {
    const digits = v.replace(/[ -]/g, '');
    return /^\d+(?:([ -])\d+(?:\1\d+)*)?$/.test(v) && digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
  },
  iban: (v) => {
    const compact = v.replace(/ /g, '').toUpperCase();
    return ibanValid(compact) && compact.length === 4 + Number(IBAN_FORMATS[compact.slice(0, 2)]!.match(/\d+/g)!.reduce((a, b) => a + Number(b), 0));
  },
  ipv4: (v) => isIPv4(v),
  ipv6: (v) => isIPv6(v),
};

/** Fragments of a value the oracle looks for: its evidence windows and, with ≥ 7 digits, its digits-only form. */
function fragments(v: PiiValue): string[] {
  const digitsOnly = v.value.replace(/\D/g, '');
  return [...evidenceWindows(v), ...(digitsOnly.length >= 7 ? [digitsOnly] : [])];
}

/** A value left as it is can be seen: some fragment occurs in the value itself. */
const checkable = (v: PiiValue): boolean => fragments(v).some((f) => v.value.includes(f));

describe('PII generators', () => {
  it.each(DETECTOR_NAMES)('generate valid %s values, nearly all of them checkable by the leak oracle', (kind) => {
    const values = fc.sample(PII_ARBITRARIES[kind], SAMPLES);
    const invalid = values.filter((v) => v.kind !== kind || !VALID[kind](v.value));
    expect(invalid.map((v) => `${v.shape}:${v.value}`)).toEqual([]);
    expect(values.filter(checkable).length / values.length).toBeGreaterThanOrEqual(0.98);
  });

  it('generate every shape of a kind (the shapes the issue names)', () => {
    const shapes = new Set(DETECTOR_NAMES.flatMap((k) => fc.sample(PII_ARBITRARIES[k], 3000).map((v) => `${k}/${v.shape}`)));
    for (const shape of [
      'email/plus-tag', 'email/apostrophe', 'email/idn-domain', 'email/unicode-local', 'email/upper-mixed-case',
      'phone/us-paren', 'phone/us-compact', 'phone/uk-trunk-paren', 'phone/de-00', 'phone/fr', 'ssn/spaced',
      'credit-card/amex-15-spaced', 'credit-card/visa-16-dashed', 'iban/grouped-lower', 'iban/compact-mixed',
      'ipv6/compressed-start', 'ipv6/compressed-end', 'ipv6/full-padded-upper', 'ipv6/ipv4-mapped', 'ipv6/nat64', 'ipv6/zone',
    ]) expect(shapes).toContain(shape);
  });
});

/** Scrubs a note perfectly: each embedded value, and nothing else, replaced. */
function perfectly(note: Note, replacement: (v: PiiValue, i: number) => string): string {
  let i = 0;
  return note.segments.map((s) => (s.pii === undefined ? s.text : replacement(s.pii, i++))).join('');
}

const FORMAT: Readonly<Record<DetectorName, keyof typeof PSEUDONYM_GENERATORS>> = {
  email: 'email', phone: 'phone', ssn: 'ssn', 'credit-card': 'credit-card', iban: 'iban', ipv4: 'ipv4', ipv6: 'ipv6',
};

describe('leak oracle', () => {
  it('passes a scrubber that replaces exactly the embedded values with tags', () => {
    fc.assert(fc.property(noteArb(), (note) => {
      expect(findLeaks(note, perfectly(note, (v) => findingTag(v.kind)), 'tag')).toEqual([]);
    }), { numRuns: RUNS });
  });

  it('passes a scrubber that replaces exactly the embedded values with pseudonyms', () => {
    const digests = fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 4, maxLength: 4 });
    fc.assert(fc.property(noteArb(), digests, (note, ds) => {
      const out = perfectly(note, (v, i) => PSEUDONYM_GENERATORS[FORMAT[v.kind]](ds[i % ds.length]!));
      expect(findLeaks(note, out, 'pseudonym')).toEqual([]);
    }), { numRuns: RUNS });
  });

  it('fails a scrubber that leaves the text as it is, on every value with evidence outside the glue', () => {
    fc.assert(fc.property(noteArb(), fc.constantFrom('tag', 'pseudonym' as const), (note, mode) => {
      const input = noteText(note);
      const glue = glueOnlyText(note);
      const expected = noteValues(note).filter((v) => fragments(v).some((f) => input.includes(f) && !glue.includes(f)));
      expect(findLeaks(note, input, mode).map((l) => l.value)).toEqual(expected);
    }), { numRuns: RUNS });
  });

  it('fails a scrubber that leaves eight characters of a value', () => {
    fc.assert(fc.property(noteArb(), (note) => {
      const out = perfectly(note, (v) => (evidenceWindows(v)[0] ?? findingTag(v.kind)));
      const glue = glueOnlyText(note);
      const leaked = findLeaks(note, out, 'tag').map((l) => l.value);
      for (const v of noteValues(note)) {
        const window = evidenceWindows(v)[0];
        if (window !== undefined && !glue.includes(window)) expect(leaked).toContain(v);
      }
    }), { numRuns: RUNS });
  });
});
