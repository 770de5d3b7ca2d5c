import { MaskerError } from '../errors.js';
import { detectorNames } from './actions/detect-untagged.js';
import type { CompiledPlan } from './compiled-plan.js';
import type { KeyRing } from './keys.js';
import type { FieldDecision } from './plan-types.js';
import type { DetectorName } from './policy-params.js';
import type { RecordContext } from './record-context.js';
import { mayNeedRestoring, restoreUnmaskedLeaves } from './record-values.js';
import type { SchemaNode } from './schema-tree.js';
import { schemaPathOf } from './schema-tree.js';
import { frameRecords, transcode } from './transcode.js';

/** PII the safety net found in a field no rule masks (field path and detectors, never the value). */
export interface Detection {
  readonly path: string;
  readonly detectors: readonly DetectorName[];
  /** `scrubbed` or `alerted` (passed through); `quarantine` fails the record instead. */
  readonly outcome: 'scrubbed' | 'alerted';
}

export interface MaskResult {
  /** A new value, decoded from the masked Avro body (the input is never mutated; unmasked leaves are its values). */
  readonly value: unknown;
  /** The decisions applied to this record (leaves that were present and non-null), for the audit. */
  readonly fields: readonly FieldDecision[];
  /** What the safety net found in unmasked string fields of this record (empty when nothing). */
  readonly detections: readonly Detection[];
}

/**
 * Masks one decoded record (avsc's in-memory form of the plan's schema) with the key ring's active key:
 * checks it against the schema, encodes it, masks the body with `maskEncoded`, and decodes the result
 * (leaves the masking left as they were keep the caller's values: see record-values.ts). Fails closed
 * with a MaskerError whose message names paths, never values: MASKER_RECORD_SHAPE when the record is not
 * a value of the schema, and every error `maskEncoded` raises.
 */
export function maskRecord(plan: CompiledPlan, record: unknown, keys: KeyRing): MaskResult {
  failIfQuarantined(plan);
  const schema = plan.schema;
  if (!schema.isValid(record)) {
    const paths: string[] = [];
    schema.isValid(record, { errorHook: (path: string[]) => void paths.push(schemaPathOf(plan.tree, path)) });
    throw new MaskerError('MASKER_RECORD_SHAPE', `record does not match the schema at ${[...new Set(paths)].slice(0, 5).join(', ')}`);
  }
  const body = schema.toBuffer(record);
  const { bytes, fields, detections } = maskEncoded(plan, body, keys);
  const value = schema.fromBuffer(bytes);
  if (!mayNeedRestoring(plan.tree, body)) return { value, fields, detections };
  return { value: restoreUnmaskedLeaves(plan.tree, record, value, (node) => unmasked(plan, node)), fields, detections };
}

/**
 * Whether the plan leaves the leaf at `node` as it is: no work, `keep`, or only the safety net's scan
 * (which returns its input unless it finds PII, and then a different text).
 */
function unmasked(plan: CompiledPlan, node: SchemaNode): boolean {
  const work = plan.decided.get(node);
  if (work === undefined || work.scanOnly === true) return true;
  return work.decisionIndex !== undefined && plan.decisions[work.decisionIndex]?.action === 'keep';
}

export interface EncodedMaskResult {
  /** The masked Avro body, after `reserve` bytes left for the caller (zeroed). */
  readonly bytes: Buffer;
  readonly fields: readonly FieldDecision[];
  readonly detections: readonly Detection[];
}

/**
 * Masks one Avro binary body (no wire-format header) written with the plan's schema, without decoding
 * the record (see transcode.ts), with the key ring's active key. Fails closed: a sensitive field without a
 * rule (quarantine mode), a failing action, a masked value that does not fit its type, or bytes that do
 * not frame as the schema says (MASKER_DECODE) all throw a MaskerError whose message names paths, never
 * values. `reserve` bytes are left at the front of the result for a header, so the caller writes it
 * without another copy.
 */
export function maskEncoded(plan: CompiledPlan, body: Buffer, keys: KeyRing, reserve = 0): EncodedMaskResult {
  failIfQuarantined(plan);
  const ctx = plan.recordContext(keys.active);
  let bytes: Buffer;
  try {
    bytes = transcode(plan.transcoder, body, ctx, reserve);
  } catch (err) {
    throw asMaskerError(err);
  }
  bytes.fill(0, 0, reserve);
  return { bytes, fields: appliedDecisions(plan, ctx), detections: detectionsOf(plan, ctx) };
}

/**
 * Checks that `data` holds only whole records of the plan's schema (e.g. an object container block, before
 * a full decoder reads it: one corrupted block count can make a decoder allocate without bound). Returns
 * the number of records; throws MASKER_DECODE naming the schema path where the framing breaks.
 */
export function countEncodedRecords(plan: CompiledPlan, data: Buffer): number {
  return frameRecords(plan.transcoder, data);
}

function failIfQuarantined(plan: CompiledPlan): void {
  if (plan.quarantineReason !== undefined) throw new MaskerError(plan.quarantineCode ?? 'MASKER_UNMATCHED_SENSITIVE', plan.quarantineReason);
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

function detectionsOf(plan: CompiledPlan, ctx: RecordContext): readonly Detection[] {
  const found = ctx.detections;
  let detections: Detection[] | undefined;
  for (let i = 0; i < found.length; i++) {
    if (found[i] === 0) continue;
    detections ??= [];
    detections.push({ path: plan.scannedPaths[i]!, detectors: detectorNames(found[i]!), outcome: plan.onDetected === 'alert' ? 'alerted' : 'scrubbed' });
  }
  return detections ?? NO_DETECTIONS;
}
