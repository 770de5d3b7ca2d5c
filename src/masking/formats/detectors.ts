import type { DetectorName } from '../policy-params.js';
import { DETECTOR_NAMES } from '../policy-params.js';
import type { NumericDetectors } from './scan-numbers.js';
import { findNumbers } from './scan-numbers.js';
import type { AddFinding } from './scan-text.js';
import { findEmails, findIbans, findIpv6 } from './scan-text.js';

/**
 * PII detectors for free text (`scrub`): a scanner, not a set of regexes that hide each other. Emails are
 * found from each `@`, IBANs from each country code, IPv6 from each `:` run, and cards, SSNs, IPv4 and phones
 * from numeric regions found in one pass; each has its validator (Luhn, mod-97, RFC 4291 grammar, never-issued
 * SSN areas, phone shapes). docs/policy-language.md (`scrub`) says exactly what each detector finds.
 */

export interface Finding {
  readonly start: number;
  readonly end: number;
  readonly detector: DetectorName;
  /** The matched text, normalised for pseudonymisation (never logged). */
  readonly text: string;
}

/** Characters every finding needs at least one of: a quick test lets PII-free text skip all detectors. */
const MAYBE_PII = /[\d@:]/;

const PRIORITY: ReadonlyMap<DetectorName, number> = new Map(DETECTOR_NAMES.map((d, i) => [d, i]));

export type PiiFinder = (text: string) => Finding[];

interface Span {
  start: number;
  end: number;
  detector: DetectorName;
}

/**
 * Compiles a finder for a set of detectors (once per plan). Every detector reports every instance of its
 * kind independently (none hides another), then overlapping findings are merged: the union of their spans
 * is one finding, named after the detector earliest in DETECTOR_NAMES (email > iban > credit-card > ssn >
 * ipv6 > ipv4 > phone), so no fragment of any finding is left in the text.
 */
export function compileFinder(enabled: ReadonlySet<DetectorName>): PiiFinder {
  const email = enabled.has('email');
  const iban = enabled.has('iban');
  const ipv6 = enabled.has('ipv6');
  const numeric: NumericDetectors = {
    card: enabled.has('credit-card'),
    ssn: enabled.has('ssn'),
    ipv4: enabled.has('ipv4'),
    phone: enabled.has('phone'),
  };
  const anyNumeric = numeric.card || numeric.ssn || numeric.ipv4 || numeric.phone;
  return (text) => {
    if (!MAYBE_PII.test(text)) return [];
    const spans: Span[] = [];
    const add: AddFinding = (start, end, detector) => void spans.push({ start, end, detector });
    if (email && text.includes('@')) findEmails(text, add);
    if (iban) findIbans(text, add);
    if (ipv6 && text.includes(':')) findIpv6(text, add);
    if (anyNumeric) findNumbers(text, numeric, add);
    return mergeSpans(text, spans);
  };
}

/** Sorts spans and merges overlapping ones into their union (touching spans stay apart). */
function mergeSpans(text: string, spans: Span[]): Finding[] {
  if (spans.length === 0) return [];
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const findings: Finding[] = [];
  let current = spans[0]!;
  for (let i = 1; i < spans.length; i++) {
    const next = spans[i]!;
    if (next.start < current.end) {
      if (next.end > current.end) current.end = next.end;
      if (PRIORITY.get(next.detector)! < PRIORITY.get(current.detector)!) current.detector = next.detector;
      continue;
    }
    findings.push(toFinding(text, current));
    current = next;
  }
  findings.push(toFinding(text, current));
  return findings;
}

function toFinding(text: string, span: Span): Finding {
  return { start: span.start, end: span.end, detector: span.detector, text: text.slice(span.start, span.end) };
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
