import { MaskerError } from '../errors.js';
import { detectorNames } from './actions/detect-untagged.js';
import { KeyedHasher } from './crypto/keyed-hash.js';
import type { KeyRing } from './keys.js';
import type { CompiledPlan } from './plan.js';
import type { FieldDecision } from './plan-types.js';
import type { DetectorName } from './policy-params.js';
import type { PlanState } from './plan-internals.js';
import { planState } from './plan-internals.js';
import type { KeyState } from './record-context.js';
import { newKeyState, RecordContext } from './record-context.js';
import type { Transcoder } from './transcode.js';
import { compileTranscoder, frameRecords, transcode } from './transcode.js';
import { schemaPathOf } from './schema-tree.js';

/** PII the safety net found in a field no rule masks (field path and detectors, never the value). */
export interface Detection {
  readonly path: string;
  readonly detectors: readonly DetectorName[];
  /** `scrubbed` or `alerted` (passed through); `quarantine` fails the record instead. */
  readonly outcome: 'scrubbed' | 'alerted';
}

export interface MaskResult {
  /** A new value (unchanged subtrees are shared with the input, which is never mutated). */
  readonly value: unknown;
  /** The decisions applied to this record (leaves that were present and non-null), for the audit. */
  readonly fields: readonly FieldDecision[];
  /** What the safety net found in unmasked string fields of this record (empty when nothing). */
  readonly detections: readonly Detection[];
}

/**
 * Masks one decoded record with a compiled plan and the key ring's active key. Fails closed: a sensitive
 * field without a rule (quarantine mode), a failing action, a record of the wrong shape or an output that
 * does not validate against the schema all throw a MaskerError whose message names paths, never values.
 */
export function maskRecord(plan: CompiledPlan, record: unknown, keys: KeyRing): MaskResult {
  failIfQuarantined(plan);
  const state = stateOf(plan);

  const ctx = new RecordContext(keyStateOf(state, keys), state.shiftSpecs, state.decisionCount, state.scanPaths.length);
  let value: unknown;
  try {
    value = state.root === undefined ? record : state.root(record, ctx);
  } catch (err) {
    throw asMaskerError(err);
  }

  if (!plan.schema.isValid(value)) {
    const paths: string[] = [];
    plan.schema.isValid(value, { errorHook: (path: string[]) => void paths.push(schemaPathOf(state.tree, path)) });
    throw new MaskerError('MASKER_OUTPUT_INVALID', `masked record does not validate against the schema at ${[...new Set(paths)].slice(0, 5).join(', ')}`);
  }

  return { value, fields: appliedDecisions(plan, ctx), detections: detectionsOf(state, ctx) };
}

export interface EncodedMaskResult {
  /** The masked Avro body, after `reserve` bytes left for the caller (zeroed). */
  readonly bytes: Buffer;
  readonly fields: readonly FieldDecision[];
  readonly detections: readonly Detection[];
}

/**
 * Masks one Avro binary body (no wire-format header) written with the plan's schema, without decoding
 * the record: see transcode.ts. Same decisions, operators, caches and fail-closed errors as
 * `maskRecord`, plus MASKER_DECODE when the bytes do not frame as the schema says. `reserve` bytes are
 * left at the front of the result for a header, so the caller writes it without another copy.
 */
export function maskEncoded(plan: CompiledPlan, body: Buffer, keys: KeyRing, reserve = 0): EncodedMaskResult {
  failIfQuarantined(plan);
  const state = stateOf(plan);
  const transcoder = transcoderOf(plan, state);
  const ctx = new RecordContext(keyStateOf(state, keys), transcoder.shiftSpecs, state.decisionCount, state.scanPaths.length);
  let bytes: Buffer;
  try {
    bytes = transcode(transcoder, body, ctx, reserve);
  } catch (err) {
    throw asMaskerError(err);
  }
  bytes.fill(0, 0, reserve);
  return { bytes, fields: appliedDecisions(plan, ctx), detections: detectionsOf(state, ctx) };
}

/**
 * Checks that `data` holds only whole records of the plan's schema (e.g. an object container block, before
 * a full decoder reads it: one corrupted block count can make a decoder allocate without bound). Returns
 * the number of records; throws MASKER_DECODE naming the schema path where the framing breaks.
 */
export function countEncodedRecords(plan: CompiledPlan, data: Buffer): number {
  const state = stateOf(plan);
  return frameRecords(transcoderOf(plan, state), data);
}

function failIfQuarantined(plan: CompiledPlan): void {
  if (plan.quarantineReason !== undefined) throw new MaskerError(plan.quarantineCode ?? 'MASKER_UNMATCHED_SENSITIVE', plan.quarantineReason);
}

function stateOf(plan: CompiledPlan): PlanState {
  const state = planState(plan);
  if (state === undefined) throw new MaskerError('MASKER_PLAN', 'not a plan made by compilePlan');
  return state;
}

const transcoders = new WeakMap<CompiledPlan, Transcoder>();

function transcoderOf(plan: CompiledPlan, state: PlanState): Transcoder {
  let transcoder = transcoders.get(plan);
  if (transcoder === undefined) {
    transcoder = compileTranscoder(state, plan.envelope);
    transcoders.set(plan, transcoder);
  }
  return transcoder;
}

/** Hashers and caches per key object: built once per (plan, key); a rotation builds a new set. */
function keyStateOf(state: PlanState, keys: KeyRing): KeyState {
  let keyState = state.byKey.get(keys.active);
  if (keyState === undefined) {
    const secret = keys.active.secret;
    keyState = newKeyState(state.domains.map((domain) => new KeyedHasher(secret, domain)), state.resultCacheCount, state.shiftSpecs.length);
    state.byKey.set(keys.active, keyState);
  }
  return keyState;
}

function asMaskerError(err: unknown): MaskerError {
  if (err instanceof MaskerError) return err;
  return new MaskerError('MASKER_ACTION', `masking failed (${err instanceof Error ? err.name : typeof err})`);
}

function appliedDecisions(plan: CompiledPlan, ctx: RecordContext): FieldDecision[] {
  const fields: FieldDecision[] = [];
  const applied = ctx.applied;
  for (let i = 0; i < applied.length; i++) if (applied[i] === 1) fields.push(plan.decisions[i]!);
  return fields;
}

const NO_DETECTIONS: readonly Detection[] = [];

function detectionsOf(state: PlanState, ctx: RecordContext): readonly Detection[] {
  const found = ctx.detections;
  let detections: Detection[] | undefined;
  for (let i = 0; i < found.length; i++) {
    if (found[i] === 0) continue;
    detections ??= [];
    detections.push({ path: state.scanPaths[i]!, detectors: detectorNames(found[i]!), outcome: state.onDetected === 'alert' ? 'alerted' : 'scrubbed' });
  }
  return detections ?? NO_DETECTIONS;
}
