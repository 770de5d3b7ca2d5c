/**
 * PII discovery for `masker scan`, pure — counting over sampled records: how many values of each field the
 * scrub detectors find PII in, merged per field, with a verdict. Nothing here stores or returns a value or
 * a finding's text.
 */
import type { Coverage, FieldScanner, FieldScope, Verdict } from './field-scanner.js';
import type { PiiKind } from './field-name-hints.js';
import { compileFinder } from './formats/detectors.js';
import type { DetectorName } from './policy-params.js';
import { DETECTOR_NAMES } from './policy-params.js';

/** Detector hits of one field over the sample. */
export interface FieldHits {
  /** Sampled non-null values with at least one finding. */
  readonly values: number;
  /** Per detector: sampled values with at least one finding of it. */
  readonly byDetector: Readonly<Partial<Record<DetectorName, number>>>;
  /** Hit values that are one finding and nothing else (an email field) … */
  readonly wholeValue: number;
  /** … and hit values where findings sit inside other text (free text). */
  readonly inText: number;
}

/** One field as `masker scan` reports it (Debezium before/after merged into one row field). */
export interface FieldReport {
  readonly path: string;
  readonly scope: FieldScope;
  /** Full paths of the leaves merged here (`before.email`, `after.email`). */
  readonly paths: readonly string[];
  readonly type: string;
  readonly nullable: boolean;
  readonly tags: readonly string[];
  /** The weakest coverage over its leaves and schemas: `none` when any of them is not covered. */
  readonly coverage: Coverage;
  /** Sampled non-null values (array items and map values count one each). */
  readonly values: number;
  /** Of those, strings the detectors ran on. */
  readonly scanned: number;
  readonly hits: FieldHits;
  readonly nameHints: readonly PiiKind[];
  readonly verdict: Verdict;
  /** The PII kind for a tag or rule suggestion: a hint, or what the hits say (`FREE_TEXT` for text). */
  readonly kind?: PiiKind | 'FREE_TEXT';
}

export interface FieldScanSummary {
  readonly fields: number;
  readonly covered: number;
  readonly piiNotCovered: number;
  readonly clean: number;
}

/** The detector whose hits make a whole value of that kind. */
export const DETECTOR_KINDS: Readonly<Record<DetectorName, PiiKind>> = {
  email: 'EMAIL',
  iban: 'IBAN',
  'credit-card': 'CREDIT_CARD',
  ssn: 'SSN',
  ipv6: 'IP',
  ipv4: 'IP',
  phone: 'PHONE',
};

/** covered when a rule or tags cover the field; else pii-not-covered with detector hits or a name hint; else clean. */
export function fieldVerdict(coverage: Coverage, hitValues: number, nameHints: readonly PiiKind[]): Verdict {
  if (coverage.by !== 'none') return 'covered';
  return hitValues > 0 || nameHints.length > 0 ? 'pii-not-covered' : 'clean';
}

interface Merged {
  readonly scope: FieldScope;
  readonly path: string;
  readonly paths: Set<string>;
  readonly types: Set<string>;
  nullable: boolean;
  readonly tags: Set<string>;
  coverage: Coverage | undefined;
  readonly hints: Set<PiiKind>;
  values: number;
  scanned: number;
  hitValues: number;
  wholeValue: number;
  inText: number;
  readonly byDetector: Map<DetectorName, number>;
}

/**
 * Aggregates fields and detector hits over every schema and record of a sample. Keeps counts only: a
 * value is run through the detectors and forgotten.
 */
export class FieldScanAccumulator {
  private readonly merged = new Map<string, Merged>();
  private readonly bound = new Map<FieldScanner, Merged[]>();
  private readonly find = compileFinder(new Set(DETECTOR_NAMES));
  private recordCount = 0;

  /** Records added so far. */
  get records(): number {
    return this.recordCount;
  }

  /** Registers a schema's fields (also with no record: an empty topic's registered schema). Idempotent. */
  addSchema(scanner: FieldScanner): void {
    if (this.bound.has(scanner)) return;
    this.bound.set(scanner, scanner.fields.map((f) => {
      let m = this.merged.get(f.key);
      if (m === undefined) {
        m = {
          scope: f.scope, path: f.path, paths: new Set(), types: new Set(), nullable: false, tags: new Set(), coverage: undefined,
          hints: new Set(), values: 0, scanned: 0, hitValues: 0, wholeValue: 0, inText: 0, byDetector: new Map(),
        };
        this.merged.set(f.key, m);
      }
      m.paths.add(f.fullPath);
      m.types.add(f.type);
      m.nullable ||= f.nullable;
      for (const t of f.tags) m.tags.add(t);
      for (const h of f.nameHints) m.hints.add(h);
      // The weakest wins: once one leaf (before.x, or x in an older schema) is not covered, the field is not.
      if (m.coverage === undefined || f.coverage.by === 'none') m.coverage = f.coverage;
      return m;
    }));
  }

  /** Counts one decoded record of `scanner`'s schema. */
  addRecord(scanner: FieldScanner, record: unknown): void {
    this.addSchema(scanner);
    const fields = this.bound.get(scanner) ?? [];
    this.recordCount++;
    scanner.walk(record, (index, value, text) => {
      const m = fields[index];
      if (m === undefined) return;
      m.values++;
      if (!text || typeof value !== 'string') return;
      m.scanned++;
      const findings = this.find(value);
      if (findings.length === 0) return;
      m.hitValues++;
      for (const d of new Set(findings.map((f) => f.detector))) m.byDetector.set(d, (m.byDetector.get(d) ?? 0) + 1);
      const only = findings.length === 1 ? findings[0] : undefined;
      if (only !== undefined && value.slice(0, only.start).trim() === '' && value.slice(only.end).trim() === '') m.wholeValue++;
      else m.inText++;
    });
  }

  /** Every field seen, in schema order, with its verdict. */
  fields(): FieldReport[] {
    return [...this.merged.values()].map((m): FieldReport => {
      const coverage = m.coverage ?? { by: 'none' };
      const nameHints = [...m.hints];
      const byDetector: Partial<Record<DetectorName, number>> = {};
      for (const d of DETECTOR_NAMES) {
        const n = m.byDetector.get(d);
        if (n !== undefined) byDetector[d] = n;
      }
      const hits: FieldHits = { values: m.hitValues, byDetector, wholeValue: m.wholeValue, inText: m.inText };
      const kind = kindOf(hits, nameHints);
      return {
        path: m.path,
        scope: m.scope,
        paths: [...m.paths],
        type: [...m.types].join(' / '),
        nullable: m.nullable,
        tags: [...m.tags],
        coverage,
        values: m.values,
        scanned: m.scanned,
        hits,
        nameHints,
        verdict: fieldVerdict(coverage, m.hitValues, nameHints),
        ...(kind === undefined ? {} : { kind }),
      };
    });
  }
}

/** The kind hits point to (one detector, whole values), else FREE_TEXT for hits, else the first name hint. */
function kindOf(hits: FieldHits, hints: readonly PiiKind[]): PiiKind | 'FREE_TEXT' | undefined {
  const detectors = Object.keys(hits.byDetector) as DetectorName[];
  if (hits.values > 0) {
    const kinds = new Set(detectors.map((d) => DETECTOR_KINDS[d]));
    const [only] = kinds;
    return hits.inText === 0 && kinds.size === 1 && only !== undefined ? only : 'FREE_TEXT';
  }
  return hints[0];
}

export function summarizeFields(fields: readonly FieldReport[]): FieldScanSummary {
  return {
    fields: fields.length,
    covered: fields.filter((f) => f.verdict === 'covered').length,
    piiNotCovered: fields.filter((f) => f.verdict === 'pii-not-covered').length,
    clean: fields.filter((f) => f.verdict === 'clean').length,
  };
}
