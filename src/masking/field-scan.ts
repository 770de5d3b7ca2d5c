import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import { countEncodedRecords } from './apply.js';
import type { Envelope, Leaf, LeafContext } from './discovery.js';
import { childContext, debeziumFieldContext, debeziumRoot, itemContext, makeLeaf, ROOT_CONTEXT } from './discovery.js';
import type { PiiKind } from './field-name-hints.js';
import { leafNameHints } from './field-name-hints.js';
import { compileFinder } from './formats/detectors.js';
import { ARRAY_TOKEN, displayPath, MAP_TOKEN } from './path-glob.js';
import type { CompiledPlan } from './compiled-plan.js';
import type { PlanIssue } from './plan-types.js';
import { analyzePlan, compilePlan } from './plan.js';
import type { ActionName, Policy } from './policy.js';
import { parsePolicy } from './policy.js';
import type { DetectorName } from './policy-params.js';
import { DETECTOR_NAMES } from './policy-params.js';
import { compileRuleMatchers, selectRule, sensitiveTagSet } from './rule-select.js';
import type { ScalarNode, SchemaNode } from './schema-tree.js';
import { buildSchemaTree } from './schema-tree.js';

/**
 * PII discovery for `masker scan`, pure: per leaf field of a writer schema, what covers it (a rule of the
 * policy, its tags, or nothing: the engine's own rule selection), what its name suggests, and — over
 * sampled decoded records — how many of its values the scrub detectors find PII in. Values are looked at
 * and counted, never kept: nothing here stores or returns a value or a finding's text.
 */

/** `value`: a field of a plain record; with a Debezium envelope, `row` (before/after merged) or `envelope`. */
export type FieldScope = 'value' | 'row' | 'envelope';

/** What makes masker mask a field. */
export type Coverage =
  | { readonly by: 'rule'; readonly rule: string; readonly action: ActionName }
  /** Sensitive by its tags, no rule: onUnmatchedSensitive (redact, or quarantine the records). */
  | { readonly by: 'tags'; readonly tags: readonly string[]; readonly outcome: 'redact' | 'quarantine' }
  /** An untagged free-text envelope field (Debezium `source.query`): envelope.freeText. */
  | { readonly by: 'envelope.freeText'; readonly mode: 'scrub' | 'redact' | 'keep' }
  | { readonly by: 'none' };

export type Verdict = 'covered' | 'pii-not-covered' | 'clean';

/** One leaf of one writer schema. Debezium `before.x` and `after.x` are two leaves with the same `key`. */
export interface SchemaField {
  /** Merge key: scope and the path rules match. */
  readonly key: string;
  readonly scope: FieldScope;
  /** The path as rules match it: relative to the row for Debezium row fields, else the full path. */
  readonly path: string;
  readonly fullPath: string;
  /** `string`, `string|long`, `int (date)`. */
  readonly type: string;
  readonly nullable: boolean;
  readonly tags: readonly string[];
  readonly coverage: Coverage;
  /** Kinds the field's name suggests (row and plain fields only: envelope names are Debezium's). */
  readonly nameHints: readonly PiiKind[];
}

/** A writer schema compiled for scanning: its fields, and how to decode and walk its records. */
export interface FieldScanner {
  readonly envelope: Envelope;
  readonly fields: readonly SchemaField[];
  /** Plan errors of the policy on this schema (every record of it would be quarantined). */
  readonly planErrors: readonly PlanIssue[];
  /**
   * Decodes one Avro body. The framing is checked first (as the worker does), so a corrupted block count
   * cannot make the decoder allocate without bound. Throws MASKER_DECODE; the message never holds a value.
   */
  decode(body: Buffer): unknown;
  /** Calls `visit` with each non-null leaf value of a decoded record, and whether detectors apply to it. */
  walk(record: unknown, visit: (fieldIndex: number, value: unknown, text: boolean) => void): void;
}

export interface FieldScanOptions {
  /** The schema JSON (tags and logical types live only there). */
  readonly schemaJson: unknown;
  readonly envelope: Envelope;
  /** The policy in force. Absent: tags only, as a policy without rules would treat them (sensitiveTags [PII]). */
  readonly policy?: Policy;
  /** Rules toggled off (Redis toggles): they cover nothing. */
  readonly disabledRules?: ReadonlySet<string>;
}

const BASE_DOC = { apiVersion: 'masker/v1', kind: 'MaskingPolicy', rules: [] } as const;
/** What counts as covered when no policy is given: tags in the default sensitiveTags, nothing else. */
export const TAGS_ONLY_POLICY: Policy = parsePolicy({ ...BASE_DOC, name: 'tags-only' }, 'masker scan (no policy)');
/** Compiles to a plan that masks nothing: only used to check a body's framing before decoding it. */
const FRAMING_POLICY: Policy = parsePolicy({ ...BASE_DOC, name: 'framing', sensitiveTags: [] }, 'masker scan (framing)');

type Visit = (fieldIndex: number, value: unknown, text: boolean) => void;
type Walker = (value: unknown, visit: Visit) => void;

/** Compiles a writer schema for scanning; throws MASKER_PLAN when the engine cannot handle the schema at all. */
export function compileFieldScanner(type: Type, options: FieldScanOptions): FieldScanner {
  const root = buildSchemaTree(type, options.schemaJson);
  const policy = options.policy ?? TAGS_ONLY_POLICY;
  const disabled = options.disabledRules ?? new Set<string>();
  const matchers = compileRuleMatchers(policy);
  const sensitive = sensitiveTagSet(policy);
  const leaves: Leaf[] = [];
  const addLeaf = (leaf: Leaf): number => leaves.push(leaf) - 1;

  let walker: Walker | undefined;
  if (options.envelope === 'debezium') {
    const envelope = debeziumRoot(root);
    const parts = envelope.fields.map((f) => [f.name, compileWalker(f.node, debeziumFieldContext(f.name, f.tags), addLeaf)] as const);
    walker = (value, visit) => {
      if (!isObject(value)) return;
      for (const [name, w] of parts) w?.(value[name], visit);
    };
  } else {
    walker = compileWalker(root, ROOT_CONTEXT, addLeaf);
  }

  const fields = leaves.map((leaf): SchemaField => {
    const choice = selectRule(leaf, matchers, sensitive, disabled).choice;
    const scope: FieldScope = options.envelope === 'none' ? 'value' : leaf.envelope ? 'envelope' : 'row';
    const path = displayPath(leaf.matchPath);
    return {
      key: `${scope}:${path}`,
      scope,
      path,
      fullPath: displayPath(leaf.path),
      type: leaf.scalars.map(typeLabel).join('|'),
      nullable: leaf.nullable,
      tags: leaf.tags,
      coverage: coverageOf(choice, leaf, policy),
      nameHints: scope === 'envelope' ? [] : leafNameHints(leaf.name, leaf.scalars),
    };
  });

  const analysis = analyzePlan(type, policy, {
    envelope: options.envelope,
    schemaJson: options.schemaJson,
    disabledRules: disabled,
  });
  let framing: CompiledPlan | undefined;
  return {
    envelope: options.envelope,
    fields,
    planErrors: analysis.errors,
    decode(body) {
      framing ??= compilePlan(type, FRAMING_POLICY, { envelope: 'none', schemaJson: options.schemaJson });
      // countEncodedRecords throws MASKER_DECODE (naming a schema path, never a value) when the bytes do not frame.
      const count = countEncodedRecords(framing, body);
      if (count !== 1) throw new MaskerError('MASKER_DECODE', `expected one record in the Avro body, found bytes for ${count}`);
      try {
        return type.fromBuffer(body);
      } catch {
        // avsc's message can quote the value: not passed on.
        throw new MaskerError('MASKER_DECODE', 'the Avro body does not decode with its writer schema');
      }
    },
    walk(record, visit) {
      walker?.(record, visit);
    },
  };
}

type SelectedChoice = ReturnType<typeof selectRule>['choice'];

function coverageOf(choice: SelectedChoice, leaf: Leaf, policy: Policy): Coverage {
  switch (choice.kind) {
    case 'rule':
      return { by: 'rule', rule: choice.matcher.rule.name, action: choice.matcher.rule.action };
    case 'unmatched':
      return { by: 'tags', tags: leaf.tags, outcome: policy.onUnmatchedSensitive };
    case 'freeText':
      return { by: 'envelope.freeText', mode: policy.envelope.freeText };
    default:
      return { by: 'none' };
  }
}

function typeLabel(s: ScalarNode): string {
  return s.logicalType === undefined ? s.scalar : `${s.scalar} (${s.logicalType})`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Detectors run on strings only, never on UUIDs or enum symbols. */
function isText(s: ScalarNode | undefined): boolean {
  return s !== undefined && s.scalar === 'string' && s.logicalType !== 'uuid';
}

/**
 * A walker over decoded values for a subtree, registering its leaves in the same order and with the same
 * contexts as the engine's discovery (`walkLeaves`): a union's scalar branches form one leaf.
 */
function compileWalker(node: SchemaNode, ctx: LeafContext, addLeaf: (leaf: Leaf) => number): Walker | undefined {
  switch (node.kind) {
    case 'scalar': {
      if (node.scalar === 'null') return undefined;
      const index = addLeaf(makeLeaf(ctx, [node], false));
      const text = isText(node);
      return (value, visit) => {
        if (value !== null && value !== undefined) visit(index, value, text);
      };
    }
    case 'record': {
      const parts = node.fields.map((f) => [f.name, compileWalker(f.node, childContext(ctx, f.name, f.tags), addLeaf)] as const);
      return (value, visit) => {
        if (!isObject(value)) return;
        for (const [name, w] of parts) w?.(value[name], visit);
      };
    }
    case 'array': {
      const items = compileWalker(node.items, itemContext(ctx, ARRAY_TOKEN), addLeaf);
      if (items === undefined) return undefined;
      return (value, visit) => {
        if (Array.isArray(value)) for (const item of value) items(item, visit);
      };
    }
    case 'map': {
      const values = compileWalker(node.values, itemContext(ctx, MAP_TOKEN), addLeaf);
      if (values === undefined) return undefined;
      return (value, visit) => {
        if (isObject(value)) for (const v of Object.values(value)) values(v, visit);
      };
    }
    case 'union': {
      const scalars = node.branches.filter((b): b is ScalarNode => b.kind === 'scalar' && b.scalar !== 'null');
      const nullable = node.branches.some((b) => b.kind === 'scalar' && b.scalar === 'null');
      const index = scalars.length > 0 ? addLeaf(makeLeaf(ctx, scalars, nullable)) : -1;
      const branches = node.branches.map((b) => ({ node: b, walk: b.kind === 'scalar' ? undefined : compileWalker(b, ctx, addLeaf) }));
      if (node.wrapped) {
        const byName = new Map(branches.map((b) => [b.node.kind === 'union' ? '' : b.node.branchName, b]));
        return (value, visit) => {
          if (!isObject(value)) return;
          const [name] = Object.keys(value);
          const branch = name === undefined ? undefined : byName.get(name);
          if (branch === undefined || name === undefined) return;
          const inner = value[name];
          if (branch.node.kind === 'scalar') {
            if (branch.node.scalar !== 'null' && inner !== null && inner !== undefined) visit(index, inner, isText(branch.node));
          } else branch.walk?.(inner, visit);
        };
      }
      // Unwrapped (avsc: at most one branch per kind of JS value): the value's JS kind picks the branch.
      const arrayWalk = branches.find((b) => b.node.kind === 'array')?.walk;
      const objectWalk = branches.find((b) => b.node.kind === 'record' || b.node.kind === 'map')?.walk;
      const stringBranch = scalars.find((s) => s.scalar === 'string' || s.scalar === 'enum');
      return (value, visit) => {
        if (value === null || value === undefined) return;
        if (Array.isArray(value)) arrayWalk?.(value, visit);
        else if (isObject(value)) objectWalk?.(value, visit);
        else if (index >= 0) visit(index, value, typeof value === 'string' && isText(stringBranch));
      };
    }
  }
}

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
