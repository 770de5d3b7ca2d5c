import { MaskerError } from '../errors.js';
import type { ScalarOp } from './actions/action-types.js';
import { UntaggedPiiError } from './actions/detect-untagged.js';
import type { RecordContext } from './record-context.js';
import type { ScalarNode } from './schema-tree.js';

/** The operator of one scalar branch of a decided leaf. */
export interface LeafOp {
  readonly op: ScalarOp;
  /** Last-result slot of a costly string operator (shared by equal operators: `before.x` and `after.x`). */
  readonly cacheSlot: number | undefined;
  /** The operator ignores its input: the byte path skips decoding the value. */
  readonly constant: boolean;
}

/** What the plan decided for one leaf: the operator per scalar branch and the decision to record. */
export interface LeafWork {
  /** The decision recorded as applied when the leaf holds a value; undefined for the safety net's scan. */
  readonly decisionIndex: number | undefined;
  /**
   * The operator returns its input unless a detector finds PII (the safety net on unmasked strings): the
   * byte path may skip a string whose bytes hold no digit, `@` or `:` without decoding it.
   */
  readonly scanOnly?: true;
  /** `after.email (rule emails)`: names the failing field in MASKER_ACTION errors, never the value. */
  readonly label: string;
  readonly ops: ReadonlyMap<ScalarNode, LeafOp>;
}

/** Masks one non-null scalar value of a leaf, with the record's context; never mutates its input. */
export type LeafOperator = (value: unknown, ctx: RecordContext) => unknown;

function actionError(label: string, err: unknown): MaskerError {
  // The safety net's finding already names its field, and carries it as data for the audit.
  if (err instanceof UntaggedPiiError) return err;
  if (err instanceof MaskerError) return new MaskerError(err.code === 'MASKER_RECORD_SHAPE' ? err.code : 'MASKER_ACTION', `${label}: ${err.message}`);
  const kind = err instanceof Error ? err.name : typeof err;
  return new MaskerError('MASKER_ACTION', `${label}: the action failed (${kind})`);
}

/**
 * The operator of one scalar branch of a decided leaf, wrapped with what every use needs: the decision
 * recorded as applied, the last-result cache, errors named by field and rule (never by value). Undefined
 * when the leaf has no operator for this branch.
 */
export function leafOperator(work: LeafWork, scalar: ScalarNode): LeafOperator | undefined {
  const entry = work.ops.get(scalar);
  if (entry === undefined) return undefined;
  const { op, cacheSlot } = entry;
  const index = work.decisionIndex;
  const label = work.label;
  if (index === undefined) {
    return (value, ctx) => {
      try {
        return op(value, ctx);
      } catch (err) {
        throw actionError(label, err);
      }
    };
  }
  if (cacheSlot === undefined) {
    return (value, ctx) => {
      ctx.applied[index] = 1;
      try {
        return op(value, ctx);
      } catch (err) {
        throw actionError(label, err);
      }
    };
  }
  return (value, ctx) => {
    ctx.applied[index] = 1;
    try {
      const state = ctx.keyState;
      if (state.lastInput[cacheSlot] === value) return state.lastOutput[cacheSlot];
      const result = op(value, ctx);
      state.lastInput[cacheSlot] = value;
      state.lastOutput[cacheSlot] = result;
      return result;
    } catch (err) {
      throw actionError(label, err);
    }
  };
}
