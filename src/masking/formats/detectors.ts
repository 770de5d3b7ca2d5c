import type { DetectorName } from '../policy-params.js';
import { DETECTOR_NAMES } from '../policy-params.js';
import { ibanValid, luhnValid } from './checksums.js';

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

/** Card numbers: 13-19 digits in groups separated by single spaces or dashes, Luhn-valid. */
function acceptCard(candidate: string): readonly [number, number] | undefined {
  const groups: { start: number; end: number }[] = [];
  const re = /\d+/g;
  for (let m = re.exec(candidate); m !== null; m = re.exec(candidate)) groups.push({ start: m.index, end: m.index + m[0].length });
  // Longest Luhn-valid run of whole groups, earliest start first.
  for (let i = 0; i < groups.length; i++) {
    for (let j = groups.length - 1; j >= i; j--) {
      const start = groups[i]!.start;
      const end = groups[j]!.end;
      const digits = candidate.slice(start, end).replace(/\D/g, '');
      if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return [start, end];
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
  const digits = candidate.replace(/\D/g, '').length;
  if (NOT_A_PHONE.test(candidate)) return undefined;
  const plus = candidate.startsWith('+');
  const separated = /[ ().-]/.test(candidate);
  if (digits > 15 || digits < (plus || separated ? 7 : 10)) return undefined;
  if ((candidate.match(/\(/g)?.length ?? 0) !== (candidate.match(/\)/g)?.length ?? 0)) return undefined;
  return whole(candidate);
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

const DETECTORS: Readonly<Record<DetectorName, Detector>> = {
  email: {
    name: 'email',
    pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}/g,
    accept: whole,
  },
  iban: { name: 'iban', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, accept: acceptIban },
  'credit-card': { name: 'credit-card', pattern: /(?<![\d])\d(?:[ -]?\d){12,40}(?!\d)/g, accept: acceptCard },
  ssn: { name: 'ssn', pattern: /(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])/g, accept: acceptSsn },
  ipv6: {
    name: 'ipv6',
    pattern: /(?<![0-9A-Fa-f.])(?:[0-9A-Fa-f]{1,4}:|::)(?=[0-9A-Fa-f]*:)[0-9A-Fa-f:]{1,37}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:])/g,
    accept: acceptIpv6,
  },
  ipv4: { name: 'ipv4', pattern: new RegExp(`(?<![\\d.])(?:${OCTET}\\.){3}${OCTET}(?!\\.?\\d)`, 'g'), accept: whole },
  phone: { name: 'phone', pattern: /(?<![\w+])\+?(?:\(\d{1,4}\)[ .-]?)?\d[\d .()-]{5,20}\d(?!\w)/g, accept: acceptPhone },
};

/** Characters every finding needs at least one of: a quick test lets PII-free text skip all regexes. */
const MAYBE_PII = /[\d@:]/;

/** Finds non-overlapping PII in `text` with the given detectors (any order; priority is fixed). */
export function findPii(text: string, enabled: ReadonlySet<DetectorName>): Finding[] {
  if (!MAYBE_PII.test(text)) return [];
  const findings: Finding[] = [];
  for (const name of DETECTOR_NAMES) {
    if (!enabled.has(name)) continue;
    const detector = DETECTORS[name];
    const re = detector.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const span = detector.accept(m[0]);
      if (span === undefined) continue;
      const start = m.index + span[0];
      const end = m.index + span[1];
      if (findings.some((f) => start < f.end && f.start < end)) continue;
      findings.push({ start, end, detector: name, text: text.slice(start, end) });
    }
  }
  return findings.sort((a, b) => a.start - b.start);
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
