import type { ActionRuntime } from './actions/action-types.js';
import type { KeyedHasher } from './crypto/keyed-hash.js';
import { readU32 } from './crypto/keyed-hash.js';

/** Masks a (sub)value: returns the new value, never mutates its input. */
export type Applier = (value: unknown, ctx: RecordContext) => unknown;

/** A date-shift slot at run time: how to read the entity from a row, which hasher, how far. */
export interface ShiftRuntime {
  readonly readEntity: (row: unknown) => unknown;
  readonly domainSlot: number;
  readonly maxDays: number;
}

const NULL_ENTITY = '\u0000null';

/** Per-record state: which decisions applied, the current row, date shifts, and a small memo. */
export class RecordContext implements ActionRuntime {
  readonly applied: Uint8Array;
  private readonly shifts: Float64Array;
  private row: unknown = undefined;
  /** Results of costly string operators, shared by `before` and `after` (often equal values). */
  memo: Map<string, unknown> | undefined;

  constructor(
    private readonly hashers: readonly KeyedHasher[],
    private readonly shiftSpecs: readonly ShiftRuntime[],
    decisionCount: number,
    useMemo: boolean,
  ) {
    this.applied = new Uint8Array(decisionCount);
    this.shifts = new Float64Array(shiftSpecs.length);
    this.memo = useMemo ? new Map() : undefined;
  }

  hasher(slot: number): KeyedHasher {
    return this.hashers[slot]!;
  }

  /** Called when masking enters a row (the scope entity paths are relative to). */
  enterRow(row: unknown): void {
    this.row = row;
    if (this.shifts.length > 0) this.shifts.fill(Number.NaN);
  }

  shiftDays(slot: number): number {
    let days = this.shifts[slot]!;
    if (Number.isNaN(days)) {
      days = this.computeShift(slot);
      this.shifts[slot] = days;
    }
    return days;
  }

  private computeShift(slot: number): number {
    const spec = this.shiftSpecs[slot]!;
    const entity = spec.readEntity(this.row);
    const memoKey = this.memo !== undefined && (typeof entity === 'string' || typeof entity === 'number') ? `\u0001${slot}\u0000${entity}` : undefined;
    if (memoKey !== undefined) {
      const hit = this.memo?.get(memoKey);
      if (typeof hit === 'number') return hit;
    }
    const hasher = this.hasher(spec.domainSlot);
    const digest = entity instanceof Uint8Array
      ? hasher.digestBytes(entity)
      : hasher.digestString(entity === null || entity === undefined ? NULL_ENTITY : String(entity));
    const magnitude = 1 + (readU32(digest, 0) % spec.maxDays);
    const days = (digest[4]! & 1) === 1 ? -magnitude : magnitude;
    if (memoKey !== undefined) this.memo?.set(memoKey, days);
    return days;
  }
}
