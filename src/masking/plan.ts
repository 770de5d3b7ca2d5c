import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import type { ActionEnv, CompiledAction, ScalarOp } from './actions/action-types.js';
import { compileAction } from './actions/compile-action.js';
import { compileDetect } from './actions/detect-untagged.js';
import type { Envelope, Leaf } from './discovery.js';
import { debeziumFieldContext, debeziumRoot, isDebeziumRow, ROOT_CONTEXT } from './discovery.js';
import { entityReader } from './entity-reader.js';
import type { BuilderHooks, LeafWork } from './plan-builder.js';
import { buildApplier, recordBuilder } from './plan-builder.js';
import { setPlanInternals } from './plan-internals.js';
import type { ActionName, EnvelopeFreeText, Policy, Rule } from './policy.js';
import { DETECTOR_NAMES, scrubParams } from './policy-params.js';
import { displayPath } from './path-glob.js';
import type { Applier, ShiftRuntime } from './record-context.js';
import type { LeafSelection } from './rule-select.js';
import { compileRuleMatchers, selectRule, sensitiveTagSet } from './rule-select.js';
import type { RecordNode, ScalarNode, SchemaNode } from './schema-tree.js';
import { buildSchemaTree, describeScalar } from './schema-tree.js';

export interface PlanOptions {
  /**
   * `debezium`: rows (`before`/`after`) are masked with rule paths relative to the row; other envelope
   * fields only where tagged (full paths) or known free text (`source.query`). `none`: the whole value.
   */
  readonly envelope: Envelope;
  /** The schema JSON (object or text). Required: avsc drops `confluent:tags` and logical types. */
  readonly schemaJson: unknown;
  /** Rules toggled off. Their fields fall to the next enabled rule or to onUnmatchedSensitive. */
  readonly disabledRules?: ReadonlySet<string>;
  /** For messages only. */
  readonly policyVersion?: number;
  /**
   * Full paths (as in decisions: `after.secondary_email`, `extra{}`) of leaves this writer schema brings that
   * no approved schema of its subject had. Where no rule or tag covers them, `newFields` applies.
   */
  readonly heldPaths?: ReadonlySet<string>;
}

/** What happens to one leaf: recorded in the audit when the leaf was present (non-null) in a record. */
export interface FieldDecision {
  readonly path: string;
  readonly action: ActionName;
  /**
   * The rule name, `(unmatchedSensitive)` for a sensitive field no enabled rule covers, or
   * `(envelopeFreeText)` for an untagged free-text envelope field (`source.query`, per envelope.freeText).
   */
  readonly rule: string;
}

export const UNMATCHED_RULE = '(unmatchedSensitive)';
/** The rule name of a new, not yet approved leaf redacted by `newFields: redact-until-approved`. */
export const NEW_FIELD_RULE = '(newField)';
export const ENVELOPE_FREE_TEXT_RULE = '(envelopeFreeText)';

/** What `envelope.freeText` does, as a rule with the pseudo-name `(envelopeFreeText)`. */
function freeTextRule(mode: EnvelopeFreeText): Rule {
  const base = { name: ENVELOPE_FREE_TEXT_RULE, match: { tags: ['PII'] } };
  switch (mode) {
    case 'scrub':
      return { ...base, action: 'scrub', params: scrubParams.parse({ detectors: [...DETECTOR_NAMES], replace: 'tag' }) };
    case 'redact':
      return { ...base, action: 'redact', params: {} };
    case 'keep':
      return { ...base, action: 'keep', params: { reason: 'envelope.freeText: keep' } };
  }
}

const FREE_TEXT_OUTCOME: Readonly<Record<EnvelopeFreeText, string>> = {
  scrub: 'scrubbed',
  redact: 'redacted',
  keep: 'passes through unmasked',
};

export interface PlanIssue {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly path?: string;
  readonly rule?: string;
}

export interface CompiledPlan {
  readonly schema: Type;
  readonly envelope: Envelope;
  readonly policyName: string;
  readonly policyVersion: number | undefined;
  readonly decisions: readonly FieldDecision[];
  /**
   * Set when every record of the schema must fail closed: a sensitive field without a rule under
   * onUnmatchedSensitive: quarantine, or unapproved new fields under newFields: quarantine.
   */
  readonly quarantineReason?: string;
  /** The error code of `quarantineReason`. */
  readonly quarantineCode?: 'MASKER_UNMATCHED_SENSITIVE' | 'MASKER_NEW_FIELDS';
  /** Full paths of the unmasked string leaves the safety net scans (`untagged.detect`). */
  readonly scannedPaths: readonly string[];
  /** Rules that never match a field of this schema, sensitive fields redacted by default, … */
  readonly warnings: readonly PlanIssue[];
}

export interface PlanAnalysis {
  readonly plan: CompiledPlan | undefined;
  readonly errors: readonly PlanIssue[];
  readonly warnings: readonly PlanIssue[];
}

/** Compiles a policy for one schema; throws MaskerError('MASKER_PLAN') listing every plan error. */
export function compilePlan(schema: Type, policy: Policy, options: PlanOptions): CompiledPlan {
  const analysis = analyzePlan(schema, policy, options);
  if (analysis.plan === undefined) {
    const version = options.policyVersion === undefined ? '' : ` v${options.policyVersion}`;
    const shown = analysis.errors.slice(0, 5).map((e) => e.message);
    const more = analysis.errors.length > shown.length ? ` (and ${analysis.errors.length - shown.length} more)` : '';
    throw new MaskerError('MASKER_PLAN', `policy ${policy.name}${version} cannot be applied to this schema: ${shown.join('; ')}${more}`);
  }
  return analysis.plan;
}

class PlanProblem extends Error {}

/** Like compilePlan, but returns every error and warning instead of throwing (for `policy validate`). */
export function analyzePlan(schema: Type, policy: Policy, options: PlanOptions): PlanAnalysis {
  const errors: PlanIssue[] = [];
  const warnings: PlanIssue[] = [];
  let root: SchemaNode;
  try {
    root = buildSchemaTree(schema, options.schemaJson);
    if (options.envelope === 'debezium') debeziumRoot(root);
  } catch (err) {
    if (!(err instanceof MaskerError)) throw err;
    return { plan: undefined, errors: [{ severity: 'error', message: err.message }], warnings };
  }

  const disabled = options.disabledRules ?? new Set<string>();
  const matchers = compileRuleMatchers(policy);
  const sensitiveTags = sensitiveTagSet(policy);
  const domains: string[] = [];
  const domainSlots = new Map<string, number>();
  const shiftSpecs: ShiftRuntime[] = [];
  const shiftSlots = new Map<string, number>();
  const decisions: FieldDecision[] = [];
  const quarantinePaths: string[] = [];
  const matchedRules = new Set<number>();
  const chosenRules = new Set<number>();
  const unmatchedRedact: Rule = { name: UNMATCHED_RULE, match: { tags: ['PII'] }, action: 'redact', params: {} };
  const freeText = freeTextRule(policy.envelope.freeText);
  const newFieldRedact: Rule = { name: NEW_FIELD_RULE, match: { tags: ['PII'] }, action: 'redact', params: {} };
  const heldPaths = options.heldPaths ?? new Set<string>();
  const newFieldPaths: string[] = [];
  const scanPaths: string[] = [];
  const { detect, onDetected } = policy.untagged;
  /** The safety net on a string leaf no rule masks (absent when detection is off or the leaf holds no string). */
  const scanLeaf = (leaf: Leaf, path: string): LeafWork | undefined => {
    if (detect.length === 0) return undefined;
    const ops = new Map<ScalarNode, { op: ScalarOp; cacheSlot: number | undefined; constant: boolean }>();
    const slot = scanPaths.length;
    for (const scalar of leaf.scalars) {
      if (scalar.scalar === 'string' && scalar.logicalType !== 'uuid') {
        ops.set(scalar, { op: compileDetect(detect, onDetected, slot, path), cacheSlot: undefined, constant: false });
      }
    }
    if (ops.size === 0) return undefined;
    scanPaths.push(path);
    return { decisionIndex: undefined, scanOnly: true, label: `${path} (untagged)`, ops };
  };
  /** Per rule: untagged envelope leaves it matches but never touches (for its "matches nothing" warning). */
  const ignoredMatches = new Map<number, Leaf[]>();

  const resultSlots = new Map<string, number>();
  /** Equal operators (same rule, same string type) share one result cache: `before.x` and `after.x`. */
  const resultSlot = (key: string): number => {
    let slot = resultSlots.get(key);
    if (slot === undefined) {
      slot = resultSlots.size;
      resultSlots.set(key, slot);
    }
    return slot;
  };
  const domainSlot = (domain: string): number => {
    let slot = domainSlots.get(domain);
    if (slot === undefined) {
      slot = domains.push(domain) - 1;
      domainSlots.set(domain, slot);
    }
    return slot;
  };
  const shiftSlot = (scope: RecordNode | undefined, entityPath: string | undefined, domain: string, maxDays: number): number => {
    const key = `${scope?.typeName ?? ''}|${entityPath ?? ''}|${domain}|${maxDays}`;
    let slot = shiftSlots.get(key);
    if (slot === undefined) {
      const read = entityReader(scope, entityPath);
      if (typeof read === 'string') throw new PlanProblem(read);
      slot = shiftSpecs.push({ readEntity: read, domainSlot: domainSlot(domain), maxDays, scope, entityPath }) - 1;
      shiftSlots.set(key, slot);
    }
    return slot;
  };

  const compileLeaf = (leaf: Leaf, scope: RecordNode | undefined, rule: Rule, ruleIndex: number): LeafWork | undefined => {
    const path = displayPath(leaf.path);
    const fail = (message: string): undefined => {
      errors.push({ severity: 'error', path, rule: rule.name, message: `field ${path}: rule "${rule.name}" (${rule.action}) ${message}` });
      return undefined;
    };
    if (rule.action === 'nullify' && !leaf.nullable) {
      return fail(`cannot apply: expects a nullable field (union with null), found ${leaf.scalars.map(describeScalar).join(' | ')}`);
    }
    const ops = new Map<ScalarNode, { op: ScalarOp; cacheSlot: number | undefined; constant: boolean }>();
    for (const scalar of leaf.scalars) {
      const env: ActionEnv = {
        rule,
        scalar,
        leaf,
        domainSlot,
        shiftSlot: (entityPath, domain, maxDays) => {
          if (leaf.envelope && entityPath !== undefined) {
            throw new PlanProblem(`entityPath ${entityPath} is relative to a row, and ${path} is an envelope field outside the rows (use date-shift without entityPath for it)`);
          }
          return shiftSlot(scope, entityPath, domain, maxDays);
        },
      };
      let compiled: CompiledAction;
      try {
        compiled = compileAction(rule, env);
      } catch (err) {
        if (err instanceof PlanProblem) return fail(err.message);
        throw err;
      }
      if ('expects' in compiled) return fail(`cannot apply: expects ${compiled.expects}, found ${describeScalar(scalar)}`);
      const cacheSlot = compiled.costly && scalar.scalar === 'string' ? resultSlot(`${ruleIndex}|${scalar.logicalType ?? ''}`) : undefined;
      ops.set(scalar, { op: compiled.op, cacheSlot, constant: compiled.constant === true });
    }
    const decisionIndex = decisions.push({ path, action: rule.action, rule: rule.name }) - 1;
    return { decisionIndex, label: `${path} (rule ${rule.name})`, ops };
  };

  const hooks: BuilderHooks = {
    decided: new Map(),
    leaf(leaf, scope) {
      const selection: LeafSelection = selectRule(leaf, matchers, sensitiveTags, disabled);
      for (const i of selection.matching) matchedRules.add(i);
      for (const i of selection.ignored) ignoredMatches.set(i, [...(ignoredMatches.get(i) ?? []), leaf]);
      const choice = selection.choice;
      const path = displayPath(leaf.path);
      if (choice.kind === 'none') {
        if (heldPaths.has(path) && policy.newFields !== 'pass') {
          newFieldPaths.push(path);
          if (policy.newFields === 'quarantine') {
            warnings.push({ severity: 'warning', path, message: `field ${path} is new in this schema and not approved: every record is quarantined (newFields: quarantine)` });
            return undefined;
          }
          warnings.push({ severity: 'warning', path, message: `field ${path} is new in this schema and not approved: redacted until approved (newFields: redact-until-approved)` });
          return compileLeaf(leaf, scope, newFieldRedact, -3);
        }
        return scanLeaf(leaf, path);
      }
      if (choice.kind === 'freeText') {
        const mode = policy.envelope.freeText;
        const work = compileLeaf(leaf, scope, freeText, -2);
        if (work !== undefined) {
          warnings.push({ severity: 'warning', path, rule: ENVELOPE_FREE_TEXT_RULE, message: `field ${path} is free text in the Debezium envelope: ${FREE_TEXT_OUTCOME[mode]} (envelope.freeText: ${mode})` });
        }
        return work;
      }
      // Envelope leaves reach here only when sensitive: every one is reported with what happens to it.
      const field = leaf.envelope ? `field ${path} is tagged ${leaf.tags.join(', ')} in the envelope` : `field ${path} is sensitive (tags ${leaf.tags.join(', ')})`;
      if (choice.kind === 'unmatched') {
        if (policy.onUnmatchedSensitive === 'quarantine') {
          quarantinePaths.push(path);
          warnings.push({ severity: 'warning', path, message: `${field} but no enabled rule covers it: every record is quarantined (onUnmatchedSensitive: quarantine)` });
          return undefined;
        }
        warnings.push({ severity: 'warning', path, message: `${field} but no enabled rule covers it: redacted (onUnmatchedSensitive: redact)` });
        return compileLeaf(leaf, scope, unmatchedRedact, -1);
      }
      const rule = choice.matcher.rule;
      chosenRules.add(choice.matcher.index);
      const work = compileLeaf(leaf, scope, rule, choice.matcher.index);
      if (work !== undefined && leaf.envelope) {
        warnings.push({ severity: 'warning', path, rule: rule.name, message: `${field}: rule "${rule.name}" (${rule.action})` });
      }
      return work;
    },
  };

  let rootApplier: Applier | undefined;
  try {
    rootApplier = buildRootApplier(root, options.envelope, hooks);
  } catch (err) {
    if (!(err instanceof MaskerError)) throw err;
    errors.push({ severity: 'error', message: err.message });
  }

  policy.rules.forEach((rule, i) => {
    if (!matchedRules.has(i)) {
      warnings.push({ severity: 'warning', rule: rule.name, message: `rules[${i}] "${rule.name}" matches no maskable field of this schema${ignoredNote(ignoredMatches.get(i))}` });
    } else if (!chosenRules.has(i) && !disabled.has(rule.name)) {
      warnings.push({ severity: 'warning', rule: rule.name, message: `rules[${i}] "${rule.name}" never applies: every field it matches is taken by an earlier rule` });
    }
  });
  if (errors.length > 0) return { plan: undefined, errors, warnings };

  const plan: CompiledPlan = {
    schema,
    envelope: options.envelope,
    policyName: policy.name,
    policyVersion: options.policyVersion,
    decisions,
    warnings,
    scannedPaths: scanPaths,
    ...quarantineOf(quarantinePaths, policy.newFields === 'quarantine' ? newFieldPaths : []),
  };
  setPlanInternals(plan, {
    root: rootApplier,
    domains,
    shiftSpecs,
    decisionCount: decisions.length,
    scanPaths,
    onDetected,
    resultCacheCount: resultSlots.size,
    tree: root,
    decided: hooks.decided,
  });
  return { plan, errors, warnings };
}

/** Why every record of a schema fails closed, if it does: unmatched sensitive fields first. */
function quarantineOf(unmatched: readonly string[], unapproved: readonly string[]): Pick<CompiledPlan, 'quarantineReason' | 'quarantineCode'> {
  if (unmatched.length > 0) {
    return { quarantineCode: 'MASKER_UNMATCHED_SENSITIVE', quarantineReason: `sensitive field(s) without an enabled rule: ${unmatched.join(', ')} (onUnmatchedSensitive: quarantine)` };
  }
  if (unapproved.length > 0) {
    return { quarantineCode: 'MASKER_NEW_FIELDS', quarantineReason: `new field(s) not approved yet: ${unapproved.join(', ')} (newFields: quarantine; masker schema approve)` };
  }
  return {};
}

/** Why a rule that matches only untagged envelope fields masks nothing. */
function ignoredNote(leaves: readonly Leaf[] | undefined): string {
  if (leaves === undefined || leaves.length === 0) return '';
  const paths = leaves.map((l) => displayPath(l.path));
  const shown = paths.length > 4 ? `${paths.slice(0, 4).join(', ')} and ${paths.length - 4} more` : paths.join(', ');
  const freeText = leaves.some((l) => l.freeText) ? '; envelope.freeText decides free text such as source.query' : '';
  return ` (it matches untagged envelope field(s) ${shown}, which rules never touch: only tagged envelope fields are masked by rules${freeText})`;
}

/**
 * The whole-value applier: the schema root; with a Debezium envelope, each top-level field — the rows
 * (each its own scope for date-shift entity paths) and the envelope fields where tags or free text give
 * them work.
 */
function buildRootApplier(root: SchemaNode, envelope: Envelope, hooks: BuilderHooks): Applier | undefined {
  if (envelope === 'none') return buildApplier(root, ROOT_CONTEXT, hooks, undefined, true);
  const envelopeRecord = debeziumRoot(root);
  const names: string[] = [];
  const appliers: Applier[] = [];
  for (const field of envelopeRecord.fields) {
    const applier = buildApplier(field.node, debeziumFieldContext(field.name, field.tags), hooks, undefined, isDebeziumRow(field.name));
    if (applier !== undefined) {
      names.push(field.name);
      appliers.push(applier);
    }
  }
  if (names.length === 0) return undefined;
  const build = recordBuilder(envelopeRecord.fields.map((f) => f.name), names, appliers, envelopeRecord.recordConstructor);
  return (value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new MaskerError('MASKER_RECORD_SHAPE', 'value does not match the schema (expected a Debezium envelope record)');
    }
    return build(value as Record<string, unknown>, ctx);
  };
}
