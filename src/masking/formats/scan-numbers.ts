import type { DetectorName } from '../policy-params.js';
import type { AddFinding } from './scan-text.js';

/**
 * Detectors over numeric regions: cards, SSNs, IPv4 addresses and phone numbers. A region is a run of
 * digit groups joined by short separators (` - . / ( )`); it is found by one pass over the text and split
 * into groups once, then each detector looks at windows of consecutive groups. Every valid window is
 * reported (two cards side by side are two findings), wherever the region stands: glued to letters,
 * after an email, at either end. Opaque tokens (UUIDs, long hex strings, dates, times, amounts) are not
 * phones: phones have no checksum, so their shape must rule out what numbers in logs usually are.
 */

/** One numeric region: digit groups and, for each group, where its digits start and end. */
interface Region {
  /** Start offset of the region's prefix (`+` or `(`), or of its first digit. */
  prefixStart: number;
  /** The region starts with `+` (or `+(`): an international phone number. */
  plus: boolean;
  readonly starts: number[];
  readonly ends: number[];
  /** Groups a phone window may not include (dates, UUID / hex-token digits). */
  readonly blocked: boolean[];
  count: number;
  digits: number;
  /** A finding of this region covers all of its digits. */
  coveredWhole: boolean;
}

export interface NumericDetectors {
  readonly card: boolean;
  readonly ssn: boolean;
  readonly ipv4: boolean;
  readonly phone: boolean;
}

const MAX_SEPARATOR = 3;
const MIN_DIGITS = 7;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSeparator(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 47 || c === 40 || c === 41;
}

function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** A numeric region, as readRegion reads it: digit groups joined by 1-3 separators (found natively, cheaply). */
const REGION = /\d+(?:[ .()/-]{1,3}\d+)*/g;
/** The shortest region any detector accepts: 7 digits, or an IPv4 address `1.2.3.4`. */
const MIN_REGION_LENGTH = 7;

/** Scans `text` for numeric regions and runs the enabled detectors on each. */
export function findNumbers(text: string, detectors: NumericDetectors, add: AddFinding): void {
  const region: Region = { prefixStart: 0, plus: false, starts: [], ends: [], blocked: [], count: 0, digits: 0, coveredWhole: false };
  REGION.lastIndex = 0;
  for (let m = REGION.exec(text); m !== null; m = REGION.exec(text)) {
    if (m[0].length < MIN_REGION_LENGTH) continue;
    readRegion(text, m.index, region);
    // One group of under 10 digits is nothing but an international phone's digits (`+1234567`).
    if (region.count === 1 && region.digits < 10 && !region.plus) continue;
    // Every detector here needs 7 digits, but an IPv4 address, which needs four groups.
    if (region.digits < MIN_DIGITS && region.count < 4) continue;
    region.coveredWhole = false;
    if (detectors.ipv4) findIpv4(text, region, add);
    if (detectors.card) findCards(text, region, add);
    if (detectors.ssn) findSsns(text, region, add);
    // A phone window inside a region already found whole would add nothing to the union.
    if (detectors.phone && !region.coveredWhole) {
      blockGroups(text, region);
      findPhones(text, region, add);
    }
  }
}

/** Reads the region whose first digit is at `pos` into `region`; returns the offset after it. */
function readRegion(text: string, pos: number, region: Region): number {
  const before = pos > 0 ? text.charCodeAt(pos - 1) : 0;
  region.plus = before === 43 || (before === 40 && pos > 1 && text.charCodeAt(pos - 2) === 43);
  region.prefixStart = before === 43 || before === 40 ? pos - 1 : pos;
  if (before === 40 && region.plus) region.prefixStart = pos - 2;
  region.count = 0;
  region.digits = 0;
  let p = pos;
  for (;;) {
    const start = p;
    while (p < text.length && isDigit(text.charCodeAt(p))) p++;
    region.digits += p - start;
    region.starts[region.count] = start;
    region.ends[region.count] = p;
    region.blocked[region.count] = false;
    region.count++;
    let q = p;
    while (q < text.length && q - p < MAX_SEPARATOR && isSeparator(text.charCodeAt(q))) q++;
    if (q === p || q >= text.length || !isDigit(text.charCodeAt(q))) return p;
    p = q;
  }
}

function digitsOf(region: Region, g: number): number {
  return region.ends[g]! - region.starts[g]!;
}

/** The separator between group `g` and `g + 1`, as a char code when it is one character, else -1. */
function separatorAfter(text: string, region: Region, g: number): number {
  return region.starts[g + 1]! - region.ends[g]! === 1 ? text.charCodeAt(region.ends[g]!) : -1;
}

function groupValue(text: string, region: Region, g: number): number {
  let v = 0;
  for (let i = region.starts[g]!; i < region.ends[g]!; i++) v = v * 10 + text.charCodeAt(i) - 48;
  return v;
}

/** Adds a finding of a region, noting when it covers every digit of the region. */
function report(region: Region, add: AddFinding, start: number, end: number, detector: DetectorName): void {
  if (start <= region.starts[0]! && end >= region.ends[region.count - 1]!) region.coveredWhole = true;
  add(start, end, detector);
}

/** IPv4: four groups of 1-3 digits (0-255) joined by dots, not part of a longer dotted run (versions). */
function findIpv4(text: string, region: Region, add: AddFinding): void {
  for (let g = 0; g + 3 < region.count; g++) {
    if (g > 0 && separatorAfter(text, region, g - 1) === 46) continue;
    if (g + 4 < region.count && separatorAfter(text, region, g + 3) === 46) continue;
    let ok = true;
    for (let k = g; k < g + 4 && ok; k++) {
      ok = digitsOf(region, k) <= 3 && groupValue(text, region, k) <= 255 && (k === g + 3 || separatorAfter(text, region, k) === 46);
    }
    if (ok) report(region, add, region.starts[g]!, region.ends[g + 3]!, 'ipv4');
  }
}

/** Luhn over the digits of groups `from..to`. */
function luhn(text: string, region: Region, from: number, to: number): boolean {
  let sum = 0;
  let n = 0;
  for (let g = to; g >= from; g--) {
    for (let i = region.ends[g]! - 1; i >= region.starts[g]!; i--) {
      let d = text.charCodeAt(i) - 48;
      if ((n & 1) === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      n++;
    }
  }
  return sum % 10 === 0;
}

/**
 * Cards: 13-19 digits, Luhn-valid, written compact (one group) or grouped with one separator throughout
 * (a single space or dash): a first group of 4, then groups of 4-6 (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3).
 * Every valid window is a finding, so two cards side by side are two findings.
 */
function findCards(text: string, region: Region, add: AddFinding): void {
  for (let from = 0; from < region.count; from++) {
    const first = digitsOf(region, from);
    if (first >= 13 && first <= 19 && luhn(text, region, from, from)) report(region, add, region.starts[from]!, region.ends[from]!, 'credit-card');
    if (first !== 4) continue;
    const sep = separatorAfter(text, region, from);
    if (sep !== 32 && sep !== 45) continue;
    let digits = first;
    for (let to = from + 1; to < region.count; to++) {
      const len = digitsOf(region, to);
      if (len < 3 || len > 6) break;
      digits += len;
      if (digits > 19) break;
      if (digits >= 13 && luhn(text, region, from, to)) report(region, add, region.starts[from]!, region.ends[to]!, 'credit-card');
      if (len < 4 || to + 1 >= region.count || separatorAfter(text, region, to) !== sep) break;
    }
  }
}

/** SSNs: `AAA-GG-SSSS` or `AAA GG SSSS`; areas 000, 666 and 9xx, group 00 and serial 0000 were never issued. */
function findSsns(text: string, region: Region, add: AddFinding): void {
  for (let g = 0; g + 2 < region.count; g++) {
    if (digitsOf(region, g) !== 3 || digitsOf(region, g + 1) !== 2 || digitsOf(region, g + 2) !== 4) continue;
    const sep = separatorAfter(text, region, g);
    if ((sep !== 45 && sep !== 32) || separatorAfter(text, region, g + 1) !== sep) continue;
    const area = groupValue(text, region, g);
    if (area === 0 || area === 666 || area >= 900) continue;
    if (groupValue(text, region, g + 1) === 0 || groupValue(text, region, g + 2) === 0) continue;
    report(region, add, region.starts[g]!, region.ends[g + 2]!, 'ssn');
  }
}

/**
 * Phones: 7-15 digits. One group needs 10 digits (or a leading `+`); several groups are joined by phone
 * separators. From every group the longest acceptable window is a finding, so a phone after other digits
 * of the same region is still found whole. Not phones: windows touching a date, a UUID or a hex token;
 * two groups joined by a dot (amounts, decimals); dot-joined groups with fewer than 10 digits (versions).
 */
function findPhones(text: string, region: Region, add: AddFinding): void {
  for (let from = 0; from < region.count; from++) {
    if (region.blocked[from]) continue;
    const plus = from === 0 && region.plus;
    let digits = 0;
    let onlyDots = true;
    let best = -1;
    for (let to = from; to < region.count; to++) {
      if (region.blocked[to]) break;
      if (to > from && separatorAfter(text, region, to - 1) !== 46) onlyDots = false;
      digits += digitsOf(region, to);
      if (digits > 15) break;
      if (digits < 7) continue;
      if (to === from) {
        if (digits >= 10 || plus) best = to;
        continue;
      }
      if (onlyDots && (to === from + 1 || digits < 10)) continue;
      best = to;
    }
    if (best === -1) continue;
    const start = from === 0 ? region.prefixStart : openParenStart(text, region, from);
    add(start, region.ends[best]!, 'phone');
  }
}

function openParenStart(text: string, region: Region, g: number): number {
  const s = region.starts[g]!;
  return text.charCodeAt(s - 1) === 40 ? s - 1 : s;
}

/** Marks groups that are part of a date, an amount or an opaque token, so phones do not take them. */
function blockGroups(text: string, region: Region): void {
  for (let g = region.plus ? 1 : 0; g + 2 < region.count; g++) {
    if (isDate(text, region, g)) region.blocked[g] = region.blocked[g + 1] = region.blocked[g + 2] = true;
  }
  blockSpacedAmount(text, region);
  for (let g = 0; g < region.count; g++) {
    if (!region.blocked[g] && inOpaqueToken(text, region.starts[g]!, region.ends[g]!)) region.blocked[g] = true;
  }
}

/**
 * An amount written with spaces between thousands and a decimal comma (`1 848 749,65`): a group of 1-3
 * digits, then groups of exactly 3 joined by single spaces, ending the region right before `,dd`; never
 * after a `+` (`+34 900 000 000` is a phone).
 */
function blockSpacedAmount(text: string, region: Region): void {
  const last = region.count - 1;
  const after = region.ends[last]!;
  if (last < 1 || region.plus || text.charCodeAt(after) !== 44) return;
  // `,dd` and then neither a digit nor a dot: `,12.50` after a number is the next CSV column.
  if (!isDigit(text.charCodeAt(after + 1)) || !isDigit(text.charCodeAt(after + 2)) || isDigit(text.charCodeAt(after + 3)) || text.charCodeAt(after + 3) === 46) return;
  let g = last;
  while (g > 0 && digitsOf(region, g) === 3 && separatorAfter(text, region, g - 1) === 32) g--;
  if (g === last || digitsOf(region, g) > 3) return;
  for (let k = g; k <= last; k++) region.blocked[k] = true;
}

/**
 * `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `DD.MM.YYYY`, `MM/DD/YYYY`, `D/M/YYYY`: the same separator twice,
 * and not once more on either side (`7.20.0000.0000` is a phone layout, not a date).
 */
function isDate(text: string, region: Region, g: number): boolean {
  const sep = separatorAfter(text, region, g);
  if ((sep !== 45 && sep !== 47 && sep !== 46) || separatorAfter(text, region, g + 1) !== sep) return false;
  if ((g > 0 && separatorAfter(text, region, g - 1) === sep) || (g + 3 < region.count && separatorAfter(text, region, g + 2) === sep)) return false;
  const a = digitsOf(region, g);
  const b = digitsOf(region, g + 1);
  const c = digitsOf(region, g + 2);
  if (a === 4 && b <= 2 && c <= 2) {
    const month = groupValue(text, region, g + 1);
    const day = groupValue(text, region, g + 2);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
  }
  if (a <= 2 && b <= 2 && c === 4) {
    const va = groupValue(text, region, g);
    const vb = groupValue(text, region, g + 1);
    return va >= 1 && vb >= 1 && va <= 31 && vb <= 31 && (va <= 12 || vb <= 12);
  }
  return false;
}

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const UUID_LENGTH = 36;
/** A MAC address written with dashes (`00-1A-2B-3C-4D-5E`); with colons it is never a numeric region. */
const MAC = /^[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}$/;
const MAC_LENGTH = 17;
const MIN_HEX_TOKEN = 16;
/** A hash has letters all through it (3 in 8 characters); a phone glued to `DE36…` or `abc` has a few. */
const MIN_HEX_LETTERS = 4;

/**
 * True when the digits at [start, end) belong to a token whose digits are not a phone number: a UUID, a MAC, or a
 * hex token of 16 or more characters holding 4+ letters a-f (hashes, trace ids) bounded by non-alphanumerics.
 * A Luhn-valid card or an SSN inside such a token is still found: only phones, which have no checksum,
 * skip them. Checked only where a hex letter or a dash touches the digits, so plain numbers cost nothing.
 */
function inOpaqueToken(text: string, start: number, end: number): boolean {
  const before = text.charCodeAt(start - 1);
  const after = text.charCodeAt(end);
  if (!isHexLetter(before) && !isHexLetter(after) && before !== 45 && after !== 45) return false;
  let s = start;
  let e = end;
  while (s > 0 && isHexOrDash(text.charCodeAt(s - 1))) s--;
  while (e < text.length && isHexOrDash(text.charCodeAt(e))) e++;
  if (tokenAround(text, s, e, start, end, UUID, UUID_LENGTH) || tokenAround(text, s, e, start, end, MAC, MAC_LENGTH)) return true;
  // The enclosing alphanumeric token, if it is all hex with letters spread through it.
  s = start;
  e = end;
  let letters = 0;
  while (s > 0 && isAlnum(text.charCodeAt(s - 1))) {
    const c = text.charCodeAt(--s);
    if (!isDigit(c) && !isHexLetter(c)) return false;
    if (isHexLetter(c)) letters++;
  }
  while (e < text.length && isAlnum(text.charCodeAt(e))) {
    const c = text.charCodeAt(e++);
    if (!isDigit(c) && !isHexLetter(c)) return false;
    if (isHexLetter(c)) letters++;
  }
  return letters >= MIN_HEX_LETTERS && e - s >= MIN_HEX_TOKEN;
}

/**
 * Whether a token of `pattern` (`length` characters) inside the hex-and-dash run [s, e) covers [start, end)
 * and stands alone: nothing alphanumeric, no dash and no `+` (`+971-20-00-00-00-00` is a phone) around it.
 */
function tokenAround(text: string, s: number, e: number, start: number, end: number, pattern: RegExp, length: number): boolean {
  for (let i = Math.max(s, end - length); i <= start && i + length <= e; i++) {
    const before = text.charCodeAt(i - 1);
    const after = text.charCodeAt(i + length);
    if (isAlnum(before) || before === 45 || before === 43 || isAlnum(after) || after === 45) continue;
    if (pattern.test(text.slice(i, i + length))) return true;
  }
  return false;
}

function isHexOrDash(c: number): boolean {
  return isDigit(c) || isHexLetter(c) || c === 45;
}
