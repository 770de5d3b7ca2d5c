import { describe, expect, it } from 'vitest';
import { KeyedHasher } from '../../../src/masking/crypto/keyed-hash.js';
import { ibanValid, luhnValid } from '../../../src/masking/formats/checksums.js';
import { findPii } from '../../../src/masking/formats/detectors.js';
import { PSEUDONYM_GENERATORS } from '../../../src/masking/formats/pseudonyms.js';
import { TEST_CARD_PREFIXES } from '../../../src/masking/formats/word-lists.js';
import { DETECTOR_NAMES, PSEUDONYM_FORMATS } from '../../../src/masking/index.js';

const hasher = new KeyedHasher(new TextEncoder().encode('format-test-key-0123'), 'formats');
const digests = Array.from({ length: 500 }, (_, i) => Uint8Array.from(hasher.digestString(`input-${i}`)));
const all = new Set(DETECTOR_NAMES);

function outputs(format: (typeof PSEUDONYM_FORMATS)[number]): string[] {
  return digests.map((d) => PSEUDONYM_GENERATORS[format](d));
}

describe('pseudonym formats', () => {
  it('emails parse and use reserved example domains', () => {
    for (const e of outputs('email')) {
      expect(e).toMatch(/^[a-z]+\.[a-z]+\d{0,8}@example\.(com|net|org)$/);
      expect(findPii(e, all).map((f) => f.detector)).toEqual(['email']);
    }
  });

  it('phones parse as +1 NXX-555-XXXX and are detected as phones', () => {
    for (const p of outputs('phone')) {
      expect(p).toMatch(/^\+1 [2-9]\d{2}-555-\d{4}$/);
      expect(p).not.toMatch(/^\+1 [2-9]11-/);
      expect(findPii(p, all).map((f) => f.detector)).toEqual(['phone']);
    }
  });

  it('credit cards are 16 digits, Luhn-valid, from test issuer prefixes', () => {
    for (const c of outputs('credit-card')) {
      expect(c).toMatch(/^\d{16}$/);
      expect(luhnValid(c)).toBe(true);
      expect(TEST_CARD_PREFIXES).toContain(c.slice(0, 6));
    }
  });

  it('SSNs use areas 900-999 with non-zero group and serial', () => {
    for (const s of outputs('ssn')) {
      const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(s);
      expect(m).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(900);
      expect(m?.[2]).not.toBe('00');
      expect(m?.[3]).not.toBe('0000');
    }
  });

  it('IBANs pass mod-97, IPs are in private / documentation ranges, UUIDs are v4-shaped', () => {
    for (const i of outputs('iban')) expect(ibanValid(i)).toBe(true);
    for (const ip of outputs('ipv4')) {
      const octets = ip.split('.').map(Number);
      expect(octets[0]).toBe(10);
      expect(octets.every((o) => o >= 0 && o <= 255)).toBe(true);
    }
    for (const ip of outputs('ipv6')) expect(ip).toMatch(/^2001:db8(:[0-9a-f]{1,4}){6}$/);
    for (const u of outputs('uuid')) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('names and addresses look real and spread over the word lists', () => {
    expect(new Set(outputs('name')).size).toBeGreaterThan(400);
    for (const n of outputs('name')) expect(n).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    for (const a of outputs('address')) expect(a).toMatch(/^\d{1,4} [A-Z][a-z]+ [A-Z][a-z]+$/);
  });

  it('every format is deterministic in the digest', () => {
    for (const format of PSEUDONYM_FORMATS) {
      expect(PSEUDONYM_GENERATORS[format](digests[0]!)).toBe(PSEUDONYM_GENERATORS[format](Uint8Array.from(digests[0]!)));
    }
  });
});
