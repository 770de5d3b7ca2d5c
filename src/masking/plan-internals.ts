import type { MaskingKey } from './keys.js';
import type { CompiledPlan } from './plan.js';
import type { Applier, KeyState, ShiftRuntime } from './record-context.js';
import type { SchemaNode } from './schema-tree.js';
import type { LeafWork } from './leaf-operator.js';
import type { OnDetected } from './policy.js';

/** The executable part of a plan, kept off the public CompiledPlan shape. */
export interface PlanInternals {
  /** Undefined when nothing in the schema needs work (the value is returned as is, after validation). */
  readonly root: Applier | undefined;
  /** Keyed-hash domains, by slot. */
  readonly domains: readonly string[];
  readonly shiftSpecs: readonly ShiftRuntime[];
  readonly decisionCount: number;
  /** Full paths of the string leaves the safety net scans, by scan slot. */
  readonly scanPaths: readonly string[];
  /** What the safety net does with its findings (the outcome the audit names). */
  readonly onDetected: OnDetected;
  /** Number of result caches (one per distinct costly string operator). */
  readonly resultCacheCount: number;
  /** The schema tree, to name invalid output paths without map keys or indexes. */
  readonly tree: SchemaNode;
  /** The work decided per scalar / union node of the tree (nodes without work are absent). */
  readonly decided: ReadonlyMap<SchemaNode, LeafWork>;
}

export interface PlanState extends PlanInternals {
  /** Hashers and caches per key object: built once per (plan, key); a rotation builds a new set. */
  readonly byKey: WeakMap<MaskingKey, KeyState>;
}

const STATE = new WeakMap<CompiledPlan, PlanState>();

export function setPlanInternals(plan: CompiledPlan, internals: PlanInternals): void {
  STATE.set(plan, { ...internals, byKey: new WeakMap() });
}

export function planState(plan: CompiledPlan): PlanState | undefined {
  return STATE.get(plan);
}
