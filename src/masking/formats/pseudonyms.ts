import { readU32 } from '../crypto/keyed-hash.js';
import type { PseudonymFormat } from '../policy-params.js';
import { ibanCheckDigits, luhnCheckDigit } from './checksums.js';
import { FIRST_NAMES, LAST_NAMES, STREET_NAMES, STREET_SUFFIXES, TEST_CARD_PREFIXES } from './word-lists.js';

/**
 * Realistic, format-valid fakes built from a 32-byte keyed digest. The digest is the only input: the same
 * (key, domain, normalised value) always gives the same pseudonym. Outputs use reserved or test ranges
 * where they exist (example.com/.net/.org mail domains, the 555 exchange, SSN areas 900-999, test card
 * issuers, 10.0.0.0/8, 2001:db8::/32) so a pseudonym never reaches a real person.
 */

function pick<T>(list: readonly T[], d: Uint8Array, offset: number): T {
  return list[readU32(d, offset) % list.length]!;
}

function digits(d: Uint8Array, offset: number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(d[(offset + i) % 32]! % 10);
  return out;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

const MAIL_DOMAINS = ['example.com', 'example.net', 'example.org'];

export function fakeEmail(d: Uint8Array): string {
  const first = pick(FIRST_NAMES, d, 0).toLowerCase();
  const last = pick(LAST_NAMES, d, 4).toLowerCase();
  return `${first}.${last}${readU32(d, 8) % 100_000_000}@${pick(MAIL_DOMAINS, d, 12)}`;
}

/** `+1 NXX-555-XXXX`: a NANP number in the 555 exchange (area code 200-999, never N11). */
export function fakePhone(d: Uint8Array): string {
  let area = 200 + (readU32(d, 0) % 800);
  if (area % 100 === 11) area += 1;
  return `+1 ${area}-555-${pad(readU32(d, 4) % 10_000, 4)}`;
}

export function fakeFirstName(d: Uint8Array): string {
  return pick(FIRST_NAMES, d, 0);
}

export function fakeLastName(d: Uint8Array): string {
  return pick(LAST_NAMES, d, 4);
}

export function fakeName(d: Uint8Array): string {
  return `${fakeFirstName(d)} ${fakeLastName(d)}`;
}

/** `9AA-GG-SSSS`: area 900-999 is never issued as an SSN; group and serial are never zero. */
export function fakeSsn(d: Uint8Array): string {
  return `${900 + (readU32(d, 0) % 100)}-${pad(1 + (readU32(d, 4) % 99), 2)}-${pad(1 + (readU32(d, 8) % 9999), 4)}`;
}

/** 16 digits: a test-card issuer prefix, 9 digest digits, a Luhn check digit. */
export function fakeCreditCard(d: Uint8Array): string {
  const payload = pick(TEST_CARD_PREFIXES, d, 0) + digits(d, 4, 9);
  return payload + String(luhnCheckDigit(payload));
}

/** A German-format IBAN (DE + check digits + 18 digits) with a valid mod-97 checksum. */
export function fakeIban(d: Uint8Array): string {
  const bban = digits(d, 4, 18);
  return `DE${ibanCheckDigits('DE', bban)}${bban}`;
}

/** An address in 10.0.0.0/8 (private), last octet 1-254. */
export function fakeIpv4(d: Uint8Array): string {
  return `10.${d[0]!}.${d[1]!}.${1 + (d[2]! % 254)}`;
}

/** An address in 2001:db8::/32 (documentation prefix). */
export function fakeIpv6(d: Uint8Array): string {
  const groups: string[] = ['2001', 'db8'];
  for (let i = 0; i < 6; i++) groups.push(((d[i * 2]! << 8) | d[i * 2 + 1]!).toString(16));
  return groups.join(':');
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A version-4-shaped UUID from the digest's first 16 bytes. */
export function fakeUuid(d: Uint8Array): string {
  const h = (i: number): string => HEX[d[i]!]!;
  const v = HEX[(d[6]! & 0x0f) | 0x40]!;
  const r = HEX[(d[8]! & 0x3f) | 0x80]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${v}${h(7)}-${r}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** A street line such as `742 Maple Avenue`. */
export function fakeAddress(d: Uint8Array): string {
  return `${1 + (readU32(d, 0) % 9999)} ${pick(STREET_NAMES, d, 4)} ${pick(STREET_SUFFIXES, d, 8)}`;
}

export const PSEUDONYM_GENERATORS: Readonly<Record<PseudonymFormat, (d: Uint8Array) => string>> = {
  email: fakeEmail,
  phone: fakePhone,
  name: fakeName,
  'first-name': fakeFirstName,
  'last-name': fakeLastName,
  ssn: fakeSsn,
  'credit-card': fakeCreditCard,
  iban: fakeIban,
  ipv4: fakeIpv4,
  ipv6: fakeIpv6,
  uuid: fakeUuid,
  address: fakeAddress,
};

/**
 * Normalises an input before hashing, so trivially different spellings of one value pseudonymise alike:
 * emails/ips/uuids/names are trimmed and lower-cased (names also collapse whitespace), phones keep
 * digits and a leading `+`, SSNs and card numbers keep digits, IBANs drop spaces and are upper-cased.
 */
export function normalizeForFormat(format: PseudonymFormat, value: string): string {
  switch (format) {
    case 'phone': {
      const digitsOnly = value.replace(/\D+/g, '');
      return value.trimStart().startsWith('+') ? `+${digitsOnly}` : digitsOnly;
    }
    case 'ssn':
    case 'credit-card':
      return value.replace(/\D+/g, '');
    case 'iban':
      return value.replace(/\s+/g, '').toUpperCase();
    case 'name':
    case 'first-name':
    case 'last-name':
    case 'address':
      return value.trim().replace(/\s+/g, ' ').toLowerCase();
    default:
      return value.trim().toLowerCase();
  }
}
