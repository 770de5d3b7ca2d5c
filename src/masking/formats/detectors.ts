import type { DetectorName } from '../policy-params.js';
import { ibanValid } from './checksums.js';

/**
 * PII detectors for free text (`scrub`). Each detector is a candidate regex (compiled once, at module
 * load) plus a validator: credit cards must pass Luhn, IBANs mod-97, IPv6 must parse, SSNs must not
 * use never-issued areas, phones need 7-15 digits. When findings overlap, the detector earlier in
 * DETECTOR_NAMES wins (email > iban > credit-card > ssn > ipv6 > ipv4 > phone).
 */

export interface Finding {
  readonly start: number;
  readonly end: number;
  readonly detector: DetectorName;
  /** The matched text, normalised for pseudonymisation (never logged). */
  readonly text: string;
}

interface Detector {
  readonly name: DetectorName;
  readonly pattern: RegExp;
  /** Returns the accepted [start, end) span inside the candidate (relative), or undefined. */
  readonly accept: (candidate: string) => readonly [number, number] | undefined;
}

const whole = (s: string): readonly [number, number] => [0, s.length];

/** Luhn check and digit count over `text[start..end)`, skipping separators. */
function luhnSpan(text: string, start: number, end: number): { readonly digits: number; readonly valid: boolean } {
  let sum = 0;
  let digits = 0;
  for (let i = end - 1; i >= start; i--) {
    let d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    if ((digits & 1) === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    digits++;
  }
  return { digits, valid: digits > 0 && sum % 10 === 0 };
}

/** Card numbers: 13-19 digits in groups separated by single spaces or dashes, Luhn-valid. */
function acceptCard(candidate: string): readonly [number, number] | undefined {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    const prevDigit = i > 0 && candidate.charCodeAt(i - 1) >= 48 && candidate.charCodeAt(i - 1) <= 57;
    if (isDigit && !prevDigit) starts.push(i);
    if (!isDigit && prevDigit) ends.push(i);
  }
  ends.push(candidate.length);
  // Longest Luhn-valid run of whole groups, earliest start first.
  for (let i = 0; i < starts.length; i++) {
    for (let j = starts.length - 1; j >= i; j--) {
      const check = luhnSpan(candidate, starts[i]!, ends[j]!);
      if (check.digits >= 13 && check.digits <= 19 && check.valid) return [starts[i]!, ends[j]!];
    }
  }
  return undefined;
}

/** IBAN: the longest prefix, cut at a space, whose compact form passes mod-97. */
function acceptIban(candidate: string): readonly [number, number] | undefined {
  let end = candidate.length;
  while (end > 0) {
    if (ibanValid(candidate.slice(0, end).replace(/ /g, ''))) return [0, end];
    const cut = candidate.lastIndexOf(' ', end - 1);
    if (cut <= 0) return undefined;
    end = cut;
  }
  return undefined;
}

function acceptSsn(candidate: string): readonly [number, number] | undefined {
  const area = candidate.slice(0, 3);
  const group = candidate.slice(4, 6);
  const serial = candidate.slice(7, 11);
  if (area === '000' || area === '666' || group === '00' || serial === '0000') return undefined;
  return whole(candidate);
}

function acceptIpv6(candidate: string): readonly [number, number] | undefined {
  let text = candidate;
  let extraGroups = 0;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const tail = text.slice(lastColon + 1);
    if (!/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(tail)) return undefined;
    text = text.slice(0, lastColon + 1) + '0';
    extraGroups = 1;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const groups = halves.flatMap(groupsOf);
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  const count = groups.length + extraGroups;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  if (groups.length < 2) return undefined; // "::1"-style fragments are too ambiguous in prose
  return whole(candidate);
}

/** Dates and decimal amounts look like phone numbers to the candidate regex; they are not. */
const NOT_A_PHONE = /^\d{4}-\d{2}-\d{2}$|^\d{2}[.-]\d{2}[.-]\d{4}$|^\d+\.\d{1,2}$/;

function acceptPhone(candidate: string): readonly [number, number] | undefined {
  let digits = 0;
  let separated = false;
  let parens = 0;
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 40) {
      parens++;
      separated = true;
    } else if (c === 41) {
      parens--;
      separated = true;
    } else if (c === 32 || c === 46 || c === 45) separated = true;
  }
  const plus = candidate.charCodeAt(0) === 43;
  if (digits > 15 || digits < (plus || separated ? 7 : 10) || parens !== 0) return undefined;
  if (NOT_A_PHONE.test(candidate)) return undefined;
  return whole(candidate);
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

/**
 * Where each detector looks. Digit-based detectors run only inside numeric regions (digits with the
 * separators phones, cards and addresses use), found by one pass over the text, so prose costs one
 * regex scan instead of one per detector. Emails are found from each `@`, IPv6 only when there is a `:`.
 */
type Scope = 'text' | 'numeric';

const DETECTORS: Readonly<Record<Exclude<DetectorName, 'email'>, Detector & { readonly scope: Scope }>> = {
  iban: { name: 'iban', scope: 'text', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, accept: acceptIban },
  'credit-card': { name: 'credit-card', scope: 'numeric', pattern: /(?<![\d])\d(?:[ -]?\d){12,40}(?!\d)/g, accept: acceptCard },
  ssn: { name: 'ssn', scope: 'numeric', pattern: /(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])/g, accept: acceptSsn },
  ipv6: {
    name: 'ipv6',
    scope: 'text',
    pattern: /(?<![0-9A-Fa-f.])(?:[0-9A-Fa-f]{1,4}:|::)(?=[0-9A-Fa-f]*:)[0-9A-Fa-f:]{1,37}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:])/g,
    accept: acceptIpv6,
  },
  ipv4: { name: 'ipv4', scope: 'numeric', pattern: new RegExp(`(?<![\\d.])(?:${OCTET}\\.){3}${OCTET}(?!\\.?\\d)`, 'g'), accept: whole },
  phone: { name: 'phone', scope: 'numeric', pattern: /(?<![\w+])\+?(?:\(\d{1,4}\)[ .-]?)?\d[\d .()-]{5,20}\d(?!\w)/g, accept: acceptPhone },
};

/** Maximal runs of digits and phone/card/IP separators, starting with a digit, `+` or `(`. */
const NUMERIC_REGION = /[+(]?\d[\d .()-]*\d/g;
const EMAIL_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}$/;

/** Characters every finding needs at least one of: a quick test lets PII-free text skip all detectors. */
const MAYBE_PII = /[\d@:]/;

function isLocalPart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}

type Add = (start: number, end: number, detector: DetectorName) => void;

/** Emails, from each `@`: the local part to the left, a domain with a TLD of letters to the right. */
function findEmails(text: string, add: Add): void {
  for (let at = text.indexOf('@'); at !== -1; ) {
    let start = at;
    while (start > 0 && isLocalPart(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
    while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
    if (start < at && EMAIL_DOMAIN.test(text.slice(at + 1, end))) add(start, end, 'email');
    at = text.indexOf('@', Math.max(end, at + 1));
  }
}

function scan(detector: Detector, text: string, offset: number, add: Add): void {
  const re = detector.pattern;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const span = detector.accept(m[0]);
    if (span !== undefined) add(offset + m.index + span[0], offset + m.index + span[1], detector.name);
  }
}

/** Detectors that scan numeric regions, in priority order. */
const NUMERIC_DETECTORS = ['credit-card', 'ssn', 'ipv4', 'phone'] as const;

/**
 * What a numeric region must contain for a detector's match to be accepted inside it: a card has ≥ 13
 * digits, an SSN 9, an IPv4 address ≥ 4 digits and 3 dots, a phone ≥ 7 digits. Counting a region's
 * digits and dots once lets most regions skip most regexes (a date skips all but the phone scan).
 */
const NEEDS: Readonly<Record<(typeof NUMERIC_DETECTORS)[number], { readonly digits: number; readonly dots: number }>> = {
  'credit-card': { digits: 13, dots: 0 },
  ssn: { digits: 9, dots: 0 },
  ipv4: { digits: 4, dots: 3 },
  phone: { digits: 7, dots: 0 },
};

export type PiiFinder = (text: string) => Finding[];

/**
 * Compiles a finder for a set of detectors (once per plan). When findings would overlap, the detector
 * earlier in DETECTOR_NAMES wins: text detectors run first (an IPv6 address, an IBAN or an email never
 * shares characters with a card, SSN, IPv4 or phone match that could outrank it), then each numeric
 * region runs card → SSN → IPv4 → phone and stops once the region is fully covered.
 */
export function compileFinder(enabled: ReadonlySet<DetectorName>): PiiFinder {
  const email = enabled.has('email');
  const iban = enabled.has('iban') ? DETECTORS.iban : undefined;
  const ipv6 = enabled.has('ipv6') ? DETECTORS.ipv6 : undefined;
  const numericNames = NUMERIC_DETECTORS.filter((d) => enabled.has(d));
  const numeric = numericNames.map((d) => DETECTORS[d]);
  const minDigits = numericNames.map((d) => NEEDS[d].digits);
  const minDots = numericNames.map((d) => NEEDS[d].dots);
  return (text) => {
    if (!MAYBE_PII.test(text)) return [];
    const findings: Finding[] = [];
    const add: Add = (start, end, detector) => {
      for (let i = 0; i < findings.length; i++) {
        const f = findings[i]!;
        if (start < f.end && f.start < end) return;
      }
      findings.push({ start, end, detector, text: text.slice(start, end) });
    };
    if (email && text.includes('@')) findEmails(text, add);
    if (iban !== undefined) scan(iban, text, 0, add);
    if (ipv6 !== undefined && text.includes(':')) scan(ipv6, text, 0, add);
    if (numeric.length > 0) {
      NUMERIC_REGION.lastIndex = 0;
      for (let m = NUMERIC_REGION.exec(text); m !== null; m = NUMERIC_REGION.exec(text)) {
        const region = m[0];
        if (region.length < 7) continue;
        const start = m.index;
        const end = start + region.length;
        let digits = 0;
        let dots = 0;
        for (let i = 0; i < region.length; i++) {
          const c = region.charCodeAt(i);
          if (c >= 48 && c <= 57) digits++;
          else if (c === 46) dots++;
        }
        for (let d = 0; d < numeric.length; d++) {
          if (digits < minDigits[d]! || dots < minDots[d]!) continue;
          if (covered(findings, start, end)) break;
          scan(numeric[d]!, region, start, add);
        }
      }
    }
    return findings.length > 1 ? findings.sort((x, y) => x.start - y.start) : findings;
  };
}

function covered(findings: readonly Finding[], start: number, end: number): boolean {
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i]!;
    if (f.start <= start && f.end >= end) return true;
  }
  return false;
}

/** Finds non-overlapping PII in `text` with the given detectors (compiles a finder; plans reuse one). */
export function findPii(text: string, enabled: ReadonlySet<DetectorName>): Finding[] {
  return compileFinder(enabled)(text);
}

/** Replaces each finding with `replacement(finding)`; text between findings is kept as is. */
export function replaceFindings(text: string, findings: readonly Finding[], replacement: (f: Finding) => string): string {
  if (findings.length === 0) return text;
  let out = '';
  let pos = 0;
  for (const f of findings) {
    out += text.slice(pos, f.start) + replacement(f);
    pos = f.end;
  }
  return out + text.slice(pos);
}

/** The tag a finding becomes with `replace: tag`: `[EMAIL]`, `[CREDIT_CARD]`, … */
export function findingTag(detector: DetectorName): string {
  return `[${detector.toUpperCase().replace(/-/g, '_')}]`;
}
