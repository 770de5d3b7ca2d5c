import type { DetectorName } from '../policy-params.js';
import { mod97 } from './checksums.js';
import { IBAN_LENGTHS } from './iban-countries.js';

/**
 * Detectors anchored on a character that numbers never hold: `@` (emails), a country code (IBANs) and
 * `:` (IPv6). Each one reports every instance it finds, wherever it stands (glued to letters, digits or
 * another finding); overlaps are resolved by the caller, which replaces the union of overlapping spans.
 */
export type AddFinding = (start: number, end: number, detector: DetectorName) => void;

const NON_ASCII_WORD = /[\p{L}\p{M}\p{N}]/u;

function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** A letter, mark or digit outside ASCII (surrogate halves count: astral letters are split in UTF-16). */
function isWordBeyondAscii(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0x80) return false;
  if (c >= 0xd800 && c <= 0xdfff) return true;
  return NON_ASCII_WORD.test(text[i]!);
}

/**
 * Characters of an email's local part: letters and digits of any script and `. _ % + - ' ~`. RFC 5322 allows
 * more (`= / ! # $ & * ^ { | }`), but in real text those are the separators of `key=jane@acme.com` or paths,
 * and taking them would swallow the key.
 */
function isLocalChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (isAsciiLetter(c) || isDigit(c)) return true;
  if (c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 39 || c === 126) return true;
  return isWordBeyondAscii(text, i);
}

function isLabelChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return isAsciiLetter(c) || isDigit(c) || c === 45 || isWordBeyondAscii(text, i);
}

function isLetterAt(text: string, i: number): boolean {
  return isAsciiLetter(text.charCodeAt(i)) || isWordBeyondAscii(text, i);
}

const MAX_LOCAL_PART = 64;

/** The start of the local part ending at `at` (exclusive), or -1 when there is none. */
function localPartStart(text: string, at: number): number {
  if (text.charCodeAt(at - 1) === 34) {
    // A quoted local part: "jane doe"@example.com
    const open = text.lastIndexOf('"', at - 2);
    if (open !== -1 && at - open <= MAX_LOCAL_PART + 2 && !text.slice(open, at).includes('\n')) return open;
  }
  let start = at;
  while (start > 0 && at - start < MAX_LOCAL_PART && isLocalChar(text, start - 1)) start--;
  // A local part does not start with a dot, and a leading apostrophe is a quote: 'jane@acme.com'.
  while (start < at && (text.charCodeAt(start) === 39 || text.charCodeAt(start) === 46)) start++;
  return start < at ? start : -1;
}

/**
 * The end of the domain starting at `from`, or -1. Labels of letters (any script), digits and hyphens
 * separated by single dots; the domain ends after the letters that open its last label with at least two
 * letters (the TLD), so `jane@acme.com2024` and `jane@acme.com415-555-0132` end after `com`. `xn--` labels
 * are kept whole; an IPv4 domain (`jane@[10.1.2.3]`, `jane@10.1.2.3`) counts too.
 */
function domainEnd(text: string, from: number): number {
  if (text.charCodeAt(from) === 91) {
    const close = text.indexOf(']', from);
    return close !== -1 && close - from <= 64 ? close + 1 : -1;
  }
  let end = -1;
  let labels = 0;
  let allDigitLabels = 0;
  let pos = from;
  while (pos < text.length) {
    const labelStart = pos;
    while (pos < text.length && isLabelChar(text, pos)) pos++;
    if (pos === labelStart) break;
    labels++;
    let letters = 0;
    while (labelStart + letters < pos && isLetterAt(text, labelStart + letters)) letters++;
    let digitsOnly = true;
    for (let i = labelStart; i < pos && digitsOnly; i++) digitsOnly = isDigit(text.charCodeAt(i));
    if (digitsOnly) allDigitLabels++;
    if (labels >= 2 && letters >= 2) end = text.startsWith('xn--', labelStart) ? pos : labelStart + letters;
    if (labels === 4 && allDigitLabels === 4) end = pos;
    if (text.charCodeAt(pos) !== 46) break;
    pos++;
  }
  return end;
}

/** Emails, from each `@`: a local part to its left, a domain with a TLD (or an IP) to its right. */
export function findEmails(text: string, add: AddFinding): void {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    const start = localPartStart(text, at);
    if (start === -1) continue;
    const end = domainEnd(text, at + 1);
    if (end === -1) continue;
    add(start, end, 'email');
  }
}

const IBAN_START = /[A-Za-z]{2}\d{2}/g;

/**
 * IBANs: a country code (any case) and two check digits, then exactly the country's length in letters and
 * digits, compact or in the printed groups of four separated by single spaces; valid when mod-97 holds.
 * Tried at every country-code position, so IBANs glued to each other or to words are found.
 */
export function findIbans(text: string, add: AddFinding): void {
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m !== null; m = IBAN_START.exec(text)) {
    const start = m.index;
    IBAN_START.lastIndex = start + 1;
    const length = IBAN_LENGTHS.get(text.slice(start, start + 2).toUpperCase());
    if (length === undefined) continue;
    const end = ibanEnd(text, start, length);
    if (end !== -1) add(start, end, 'iban');
  }
}

function ibanEnd(text: string, start: number, length: number): number {
  let compact = '';
  let pos = start;
  while (compact.length < length && pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === 32 && compact.length % 4 === 0 && compact.length > 0 && pos + 1 < text.length && text.charCodeAt(pos + 1) !== 32) {
      pos++;
      continue;
    }
    if (!isDigit(c) && !isAsciiLetter(c)) return -1;
    compact += text[pos];
    pos++;
  }
  if (compact.length < length) return -1;
  const upper = compact.toUpperCase();
  return mod97(upper.slice(4) + upper.slice(0, 4)) === 1 ? pos : -1;
}

/** IPv6 (RFC 4291 / 5952): every form, embedded IPv4, zone ids. Needs two groups and five hex digits (`::1` is not PII). */
export function findIpv6(text: string, add: AddFinding): void {
  for (let colon = text.indexOf(':'); colon !== -1; ) {
    let runStart = colon;
    while (runStart > 0 && isAddressChar(text.charCodeAt(runStart - 1))) runStart--;
    let runEnd = colon + 1;
    let colons = 1;
    while (runEnd < text.length && isAddressChar(text.charCodeAt(runEnd))) {
      if (text.charCodeAt(runEnd) === 58) colons++;
      runEnd++;
    }
    if (colons >= 2) {
      for (let p = runStart; p < runEnd; ) {
        const end = ipv6End(text, p, runEnd);
        if (end === -1) {
          p++;
          continue;
        }
        const withZone = zoneEnd(text, end);
        add(p, withZone, 'ipv6');
        p = end;
      }
    }
    colon = text.indexOf(':', runEnd);
  }
}

function isAddressChar(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

/** `%eth0` (or URL-encoded `%25eth0`) after an address: the zone id belongs to the finding. */
function zoneEnd(text: string, end: number): number {
  if (text.charCodeAt(end) !== 37) return end;
  let pos = end + 1;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (!(isAsciiLetter(c) || isDigit(c) || c === 46 || c === 95 || c === 126 || c === 45)) break;
    pos++;
  }
  return pos > end + 1 ? pos : end;
}

/** `a::b` and `std::vector` are code, not addresses: a compressed address needs this many hex digits. */
const MIN_COMPRESSED_HEX = 5;

/** The end of the longest IPv6 address starting at `p` (not beyond `limit`), or -1. */
function ipv6End(text: string, p: number, limit: number): number {
  let pos = p;
  let groups = 0;
  let hexDigits = 0;
  let compressed = false;
  let best = -1;
  if (text.charCodeAt(pos) === 58) {
    if (text.charCodeAt(pos + 1) !== 58) return -1;
    compressed = true;
    pos += 2;
  }
  while (pos < limit) {
    const v4 = ipv4End(text, pos, limit);
    if (v4 !== -1 && (compressed ? groups + 2 <= 7 : groups + 2 === 8)) return v4;
    let h = 0;
    while (h < 5 && pos + h < limit && isHex(text.charCodeAt(pos + h))) h++;
    if (h === 0 || h > 4) break;
    groups++;
    hexDigits += h;
    pos += h;
    if (groups >= 2 && hexDigits >= MIN_COMPRESSED_HEX && (compressed ? groups <= 7 : groups === 8)) best = pos;
    if (groups === 8 || (compressed && groups === 7)) break;
    if (text.charCodeAt(pos) !== 58) break;
    if (text.charCodeAt(pos + 1) === 58) {
      if (compressed) break;
      compressed = true;
      pos += 2;
      if (groups >= 2 && hexDigits >= MIN_COMPRESSED_HEX) best = pos;
    } else if (pos + 1 < limit && isHex(text.charCodeAt(pos + 1))) {
      pos++;
    } else {
      break;
    }
  }
  return best;
}

/** The end of a dotted-quad IPv4 address starting at `p` (each octet 0-255, 1-3 digits), or -1. */
export function ipv4End(text: string, p: number, limit: number): number {
  let pos = p;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (text.charCodeAt(pos) !== 46) return -1;
      pos++;
    }
    let value = 0;
    let n = 0;
    while (n < 4 && pos < limit && isDigit(text.charCodeAt(pos))) {
      value = value * 10 + text.charCodeAt(pos) - 48;
      n++;
      pos++;
    }
    if (n === 0 || n > 3 || value > 255) return -1;
  }
  return pos;
}
