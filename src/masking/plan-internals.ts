import type { KeyedHasher } from './crypto/keyed-hash.js';
import type { MaskingKey } from './keys.js';
import type { CompiledPlan } from './plan.js';
import type { Applier, ShiftRuntime } from './record-context.js';

/** The executable part of a plan, kept off the public CompiledPlan shape. */
export interface PlanInternals {
  /** Undefined when nothing in the schema needs work (the value is returned as is, after validation). */
  readonly root: Applier | undefined;
  /** Keyed-hash domains, by slot. */
  readonly domains: readonly string[];
  readonly shiftSpecs: readonly ShiftRuntime[];
  readonly decisionCount: number;
  /** Share costly string results between `before` and `after` of one record. */
  readonly useMemo: boolean;
}

interface PlanState extends PlanInternals {
  /** Hashers per key object: built once per (plan, key), so rotation simply builds a new set. */
  readonly hashers: WeakMap<MaskingKey, readonly KeyedHasher[]>;
}

const STATE = new WeakMap<CompiledPlan, PlanState>();

export function setPlanInternals(plan: CompiledPlan, internals: PlanInternals): void {
  STATE.set(plan, { ...internals, hashers: new WeakMap() });
}

export function planState(plan: CompiledPlan): PlanState | undefined {
  return STATE.get(plan);
}
