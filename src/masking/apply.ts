import { MaskerError } from '../errors.js';
import { KeyedHasher } from './crypto/keyed-hash.js';
import type { KeyRing } from './keys.js';
import type { CompiledPlan, FieldDecision } from './plan.js';
import { planState } from './plan-internals.js';
import { newKeyState, RecordContext } from './record-context.js';
import { schemaPathOf } from './schema-tree.js';

export interface MaskResult {
  /** A new value (unchanged subtrees are shared with the input, which is never mutated). */
  readonly value: unknown;
  /** The decisions applied to this record (leaves that were present and non-null), for the audit. */
  readonly fields: readonly FieldDecision[];
}

/**
 * Masks one decoded record with a compiled plan and the key ring's active key. Fails closed: a sensitive
 * field without a rule (quarantine mode), a failing action, a record of the wrong shape or an output that
 * does not validate against the schema all throw a MaskerError whose message names paths, never values.
 */
export function maskRecord(plan: CompiledPlan, record: unknown, keys: KeyRing): MaskResult {
  if (plan.quarantineReason !== undefined) throw new MaskerError('MASKER_UNMATCHED_SENSITIVE', plan.quarantineReason);
  const state = planState(plan);
  if (state === undefined) throw new MaskerError('MASKER_PLAN', 'not a plan made by compilePlan');

  let keyState = state.byKey.get(keys.active);
  if (keyState === undefined) {
    const secret = keys.active.secret;
    keyState = newKeyState(state.domains.map((domain) => new KeyedHasher(secret, domain)), state.resultCacheCount, state.shiftSpecs.length);
    state.byKey.set(keys.active, keyState);
  }

  const ctx = new RecordContext(keyState, state.shiftSpecs, state.decisionCount);
  let value: unknown;
  try {
    value = state.root === undefined ? record : state.root(record, ctx);
  } catch (err) {
    if (err instanceof MaskerError) throw err;
    throw new MaskerError('MASKER_ACTION', `masking failed (${err instanceof Error ? err.name : typeof err})`);
  }

  if (!plan.schema.isValid(value)) {
    const paths: string[] = [];
    plan.schema.isValid(value, { errorHook: (path: string[]) => void paths.push(schemaPathOf(state.tree, path)) });
    throw new MaskerError('MASKER_OUTPUT_INVALID', `masked record does not validate against the schema at ${[...new Set(paths)].slice(0, 5).join(', ')}`);
  }

  const fields: FieldDecision[] = [];
  const applied = ctx.applied;
  for (let i = 0; i < applied.length; i++) if (applied[i] === 1) fields.push(plan.decisions[i]!);
  return { value, fields };
}
