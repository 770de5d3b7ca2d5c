import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import { CompiledPlan } from './compiled-plan.js';
import { debeziumRoot } from './discovery.js';
import { PlanCompiler } from './plan-compiler.js';
import type { PlanIssue, PlanOptions } from './plan-types.js';
import type { Decided } from './plan-walk.js';
import { walkPlan } from './plan-walk.js';
import type { Policy } from './policy.js';
import type { SchemaNode } from './schema-tree.js';
import { buildSchemaTree } from './schema-tree.js';

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

  const plan = new CompiledPlan({
    schema,
    envelope: options.envelope,
    policyName: policy.name,
    policyVersion: options.policyVersion,
    decisions: compiler.decisions,
    warnings,
    scannedPaths: compiler.scanPaths,
    quarantine: compiler.quarantine(),
    tree,
    decided,
    domains: compiler.domains,
    shiftSpecs: compiler.shiftSpecs,
    resultCacheCount: compiler.resultCacheCount,
    onDetected: policy.untagged.onDetected,
  });
  return { plan, errors, warnings };
}
