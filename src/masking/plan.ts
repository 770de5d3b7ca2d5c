import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import type { Envelope } from './discovery.js';
import { debeziumRoot } from './discovery.js';
import { buildRootApplier } from './plan-builder.js';
import { PlanCompiler } from './plan-compiler.js';
import { setPlanInternals } from './plan-internals.js';
import type { FieldDecision, PlanIssue, PlanOptions } from './plan-types.js';
import type { Decided } from './plan-walk.js';
import { walkPlan } from './plan-walk.js';
import type { Policy } from './policy.js';
import type { SchemaNode } from './schema-tree.js';
import { buildSchemaTree } from './schema-tree.js';

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

/** Like compilePlan, but returns every error and warning instead of throwing (for `policy validate`). */
export function analyzePlan(schema: Type, policy: Policy, options: PlanOptions): PlanAnalysis {
  let tree: SchemaNode;
  try {
    tree = buildSchemaTree(schema, options.schemaJson);
    if (options.envelope === 'debezium') debeziumRoot(tree);
  } catch (err) {
    if (!(err instanceof MaskerError)) throw err;
    return { plan: undefined, errors: [{ severity: 'error', message: err.message }], warnings: [] };
  }
  const compiler = new PlanCompiler(policy, options);
  const { errors, warnings } = compiler;
  let decided: Decided = new Map();
  try {
    decided = walkPlan(tree, options.envelope, (leaf, scope) => compiler.decide(leaf, scope));
  } catch (err) {
    if (!(err instanceof MaskerError)) throw err;
    errors.push({ severity: 'error', message: err.message });
  }
  compiler.ruleWarnings();
  if (errors.length > 0) return { plan: undefined, errors, warnings };

  const plan: CompiledPlan = {
    schema,
    envelope: options.envelope,
    policyName: policy.name,
    policyVersion: options.policyVersion,
    decisions: compiler.decisions,
    warnings,
    scannedPaths: compiler.scanPaths,
    ...compiler.quarantine(),
  };
  setPlanInternals(plan, {
    root: buildRootApplier(tree, options.envelope, decided),
    domains: compiler.domains,
    shiftSpecs: compiler.shiftSpecs,
    decisionCount: compiler.decisions.length,
    scanPaths: compiler.scanPaths,
    onDetected: policy.untagged.onDetected,
    resultCacheCount: compiler.resultCacheCount,
    tree,
    decided,
  });
  return { plan, errors, warnings };
}
