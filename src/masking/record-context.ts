import type { ActionRuntime } from './actions/action-types.js';
import type { KeyedHasher } from './crypto/keyed-hash.js';
import { readU32 } from './crypto/keyed-hash.js';
import type { RecordNode } from './schema-tree.js';

/**
 * A row of the record being masked, as a place in its Avro body: the row record's bytes start at `pos`
 * (the record's end is not known before it is walked: `end` is the body's end). Date-shift entity paths
 * are read from here.
 */
export interface RowRef {
  readonly buf: Buffer;
  readonly pos: number;
  readonly end: number;
}

/** Before any row is entered (envelope fields before the rows, a scalar root): no entity to read. */
const NO_ROW: RowRef = { buf: Buffer.alloc(0), pos: 0, end: 0 };

/** A date-shift slot at run time: how to read the entity from a row, which hasher, how far. */
export interface ShiftRuntime {
  /** Reads the entity value from the row's bytes (as avsc decodes it; null when absent). */
  readonly readEntity: (row: RowRef) => unknown;
  /** Where the entity is: the row record (undefined outside rows) and the path in it (none: domain-wide). */
  readonly scope: RecordNode | undefined;
  readonly entityPath: string | undefined;
  readonly domainSlot: number;
  readonly maxDays: number;
}

const NULL_ENTITY = '\u0000null';

/**
 * What a plan keeps per masking key: hashers per domain slot, and the last input → output of each costly
 * operator and of each date-shift slot. Operators are deterministic for a key, so the last result can be
 * reused whenever the same value comes again — above all `after.x` equal to `before.x` in an update — at
 * the cost of one comparison, with no hashing of the value as a map key.
 */
export interface KeyState {
  readonly hashers: readonly KeyedHasher[];
  readonly lastInput: unknown[];
  readonly lastOutput: unknown[];
  readonly lastEntity: unknown[];
  readonly lastShift: number[];
}

export function newKeyState(hashers: readonly KeyedHasher[], resultSlots: number, shiftSlots: number): KeyState {
  return {
    hashers,
    lastInput: new Array<unknown>(resultSlots).fill(undefined),
    lastOutput: new Array<unknown>(resultSlots).fill(undefined),
    lastEntity: new Array<unknown>(shiftSlots).fill(undefined),
    lastShift: new Array<number>(shiftSlots).fill(0),
  };
}

/** Per-record state: which decisions applied, the current row, and the date shifts of that row. */
export class RecordContext implements ActionRuntime {
  readonly applied: Uint8Array;
  /** Per scanned (unmasked) string leaf: the detectors that found PII in it, a bit per DETECTOR_NAMES index. */
  readonly detections: Uint8Array;
  readonly keyState: KeyState;
  private readonly hashers: readonly KeyedHasher[];
  private readonly shifts: Float64Array;
  private row: RowRef = NO_ROW;

  constructor(keyState: KeyState, private readonly shiftSpecs: readonly ShiftRuntime[], decisionCount: number, scanCount: number) {
    this.applied = new Uint8Array(decisionCount);
    this.detections = new Uint8Array(scanCount);
    this.keyState = keyState;
    this.hashers = keyState.hashers;
    // NaN = not computed yet. A leaf outside any row (a Debezium envelope field, the root of a scalar
    // schema) can ask for a shift before any row is entered: it must not read a zero-filled slot as 0 days.
    this.shifts = new Float64Array(shiftSpecs.length).fill(Number.NaN);
  }

  hasher(slot: number): KeyedHasher {
    return this.hashers[slot]!;
  }

  detected(slot: number, detectors: number): void {
    this.detections[slot] = this.detections[slot]! | detectors;
  }

  /** Called when masking enters a row (the scope entity paths are relative to). */
  enterRow(row: RowRef): void {
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
    const cacheable = typeof entity === 'string' || typeof entity === 'number';
    if (cacheable && this.keyState.lastEntity[slot] === entity) return this.keyState.lastShift[slot]!;
    const hasher = this.hasher(spec.domainSlot);
    const digest = entity instanceof Uint8Array
      ? hasher.digestBytes(entity)
      : hasher.digestString(entity === null || entity === undefined ? NULL_ENTITY : String(entity));
    const magnitude = 1 + (readU32(digest, 0) % spec.maxDays);
    const days = (digest[4]! & 1) === 1 ? -magnitude : magnitude;
    if (cacheable) {
      this.keyState.lastEntity[slot] = entity;
      this.keyState.lastShift[slot] = days;
    }
    return days;
  }
}
