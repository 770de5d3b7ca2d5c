import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import { countEncodedRecords } from './apply.js';
import type { Envelope, Leaf, LeafContext } from './discovery.js';
import { childContext, debeziumFieldContext, debeziumRoot, itemContext, makeLeaf, ROOT_CONTEXT } from './discovery.js';
import type { PiiKind } from './field-name-hints.js';
import { leafNameHints } from './field-name-hints.js';
import { ARRAY_TOKEN, displayPath, MAP_TOKEN } from './path-glob.js';
import type { CompiledPlan } from './compiled-plan.js';
import type { PlanIssue } from './plan-types.js';
import { analyzePlan, compilePlan } from './plan.js';
import type { ActionName, Policy } from './policy.js';
import { parsePolicy } from './policy.js';
import { compileRuleMatchers, selectRule, sensitiveTagSet } from './rule-select.js';
import type { ScalarNode, SchemaNode } from './schema-tree.js';
import { buildSchemaTree } from './schema-tree.js';

/**
 * PII discovery for `masker scan`, pure — compiling a writer schema for scanning: per leaf field, what
 * covers it (a rule of the policy, its tags, or nothing: the engine's own rule selection), what its name
 * suggests, and a walker that hands each decoded value to the counting (field-scan.ts). Values are looked
 * at, never kept.
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

