import type { KeyedHasher } from '../crypto/keyed-hash.js';
import type { Leaf } from '../discovery.js';
import type { Rule } from '../policy.js';
import type { ScalarNode } from '../schema-tree.js';

/** Per-record state the operators may use. Created per record (`maskEncoded`), never shared between records. */
export interface ActionRuntime {
  /** Keyed hasher (active key) for a domain slot registered at compile time. */
  hasher(slot: number): KeyedHasher;
  /** Date shift in days for a shift slot, for the row being masked (same entity → same shift). */
  shiftDays(slot: number): number;
  /** Records that detectors (a bit per DETECTOR_NAMES index) found PII in an unmasked field's value. */
  detected(slot: number, detectors: number): void;
}

/** Masks one non-null value of one Avro scalar type. Pure apart from the runtime it is given. */
export type ScalarOp = (value: unknown, runtime: ActionRuntime) => unknown;

export interface ShiftSpec {
  /** Field names from the row (scope) root to the entity field; empty for a domain-wide shift. */
  readonly entityPath: string | undefined;
  readonly domainSlot: number;
  readonly maxDays: number;
}

/** What an action compiler gets: the rule, the scalar branch it must handle, and slot registries. */
export interface ActionEnv {
  readonly rule: Rule;
  readonly scalar: ScalarNode;
  readonly leaf: Leaf;
  /** Index of the keyed hasher for `domain` (registered once per plan). */
  domainSlot(domain: string): number;
  /** Index of a date-shift spec; throws a plan error message when the entity path does not resolve. */
  shiftSlot(entityPath: string | undefined, domain: string, maxDays: number): number;
}

/** An operator, or why the action cannot apply to this type (`expects …`), for the plan error. */
export type CompiledAction =
  | {
    readonly op: ScalarOp;
    readonly costly: boolean;
    /** The operator never reads its input (a constant): the byte path skips decoding the value. */
    readonly constant?: true;
  }
  | { readonly expects: string };

export function unsupported(expects: string): CompiledAction {
  return { expects };
}

export function isStringLike(scalar: ScalarNode): boolean {
  return scalar.scalar === 'string' && scalar.logicalType !== 'uuid';
}

/** avsc accepts longs (as JS numbers) only within ±(2^53 - 2). */
export const AVRO_LONG_MAX = 9_007_199_254_740_990;

export function isAvroLong(n: number): boolean {
  return Number.isInteger(n) && n >= -AVRO_LONG_MAX && n <= AVRO_LONG_MAX;
}

export const TIMESTAMP_UNITS: Readonly<Record<string, number>> = {
  'timestamp-millis': 86_400_000,
  'local-timestamp-millis': 86_400_000,
  'timestamp-micros': 86_400_000_000,
  'local-timestamp-micros': 86_400_000_000,
};
