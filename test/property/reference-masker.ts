import { createHmac } from 'node:crypto';
import avro from 'avsc';
import type { ActionRuntime } from '../../src/masking/actions/action-types.js';
import { KeyedHasher } from '../../src/masking/crypto/keyed-hash.js';
import type { CompiledPlan, Detection, FieldDecision, KeyRing } from '../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../src/masking/index.js';
import type { ScalarNode, SchemaNode } from '../../src/masking/schema-tree.js';

/**
 * The oracle of the masking properties: a small masker that is obviously correct by reading it, to compare
 * the engine (`maskEncoded`, which walks Avro bytes) with. It masks a DECODED record — decoded with every
 * union wrapped (`{"branch": value}`), so that which branch a value holds is never guessed — by walking
 * it along the plan's schema tree and calling the plan's own operators (the actions are unit-tested on
 * their own: this checks traversal, splicing, unions, arrays, maps, envelopes, nulls and decisions). Its
 * runtime computes date shifts itself, from the documented formula (docs/policy-language.md, "date-shift"
 * and "Keys, domains and determinism"), reading the entity from the decoded row.
 */

export interface ReferenceResult {
  readonly value: unknown;
  readonly fields: readonly FieldDecision[];
  readonly detections: readonly Detection[];
}

/** A type that decodes the plan's schema with every union wrapped (same bytes as the plan's own type). */
export function wrappedType(schemaJson: unknown): avro.Type {
  return avro.Type.forSchema((typeof schemaJson === 'string' ? JSON.parse(schemaJson) : schemaJson) as avro.Schema, { wrapUnions: true });
}

/** Masks `body` with the reference masker: decode (unions wrapped), mask, encode. Throws what an operator throws. */
export function referenceMaskBody(plan: CompiledPlan, type: avro.Type, body: Buffer, keys: KeyRing): { bytes: Buffer; fields: readonly FieldDecision[]; detections: readonly Detection[] } {
  if (plan.quarantineReason !== undefined) throw Object.assign(new Error(plan.quarantineReason), { code: plan.quarantineCode });
  const masked = referenceMask(plan, type.fromBuffer(body), keys);
  let bytes: Buffer;
  try {
    bytes = type.toBuffer(masked.value);
  } catch {
    throw Object.assign(new Error('masked value does not fit its type'), { code: 'MASKER_OUTPUT_INVALID' });
  }
  return { bytes, fields: masked.fields, detections: masked.detections };
}

/** Masks a decoded record whose unions are all wrapped (see `wrappedType`). */
export function referenceMask(plan: CompiledPlan, record: unknown, keys: KeyRing): ReferenceResult {
  const applied = new Set<number>();
  const found = new Map<number, number>();
  let row: unknown = undefined;

  const hashers = new Map<number, KeyedHasher>();
  const runtime: ActionRuntime = {
    hasher: (slot) => {
      let hasher = hashers.get(slot);
      if (hasher === undefined) hashers.set(slot, hasher = new KeyedHasher(keys.active.secret, plan.domains[slot]!));
      return hasher;
    },
    detected: (slot, bits) => void found.set(slot, (found.get(slot) ?? 0) | bits),
    shiftDays: (slot) => {
      const spec = plan.shiftSpecs[slot]!;
      const entity = spec.entityPath === undefined ? '' : readEntity(spec.scope, row, spec.entityPath);
      return shiftOf(keys.active.secret, plan.domains[spec.domainSlot]!, entity, spec.maxDays);
    },
  };

  /** A scalar value of a leaf: its operator (if the plan gave the leaf one for this branch), else as is. */
  const leaf = (decidedAt: SchemaNode, scalar: ScalarNode, value: unknown): unknown => {
    const work = plan.decided.get(decidedAt);
    const entry = work?.ops.get(scalar);
    if (work === undefined || entry === undefined) return value;
    if (work.decisionIndex !== undefined) applied.add(work.decisionIndex);
    return entry.op(value, runtime);
  };

  const walk = (node: SchemaNode, value: unknown, entersScope: boolean): unknown => {
    if (value === null) return null;
    switch (node.kind) {
      case 'scalar':
        return leaf(node, node, value);
      case 'record': {
        if (entersScope) row = value;
        const out: Record<string, unknown> = {};
        for (const field of node.fields) out[field.name] = walk(field.node, (value as Record<string, unknown>)[field.name], false);
        return out;
      }
      case 'array':
        return (value as unknown[]).map((item) => walk(node.items, item, false));
      case 'map': {
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) out[key] = walk(node.values, item, false);
        return out;
      }
      case 'union': {
        const [key, inner] = Object.entries(value as Record<string, unknown>)[0]!;
        const branch = node.branches.find((b) => b.kind !== 'union' && b.branchName === key)!;
        const masked = branch.kind === 'scalar' ? leaf(node, branch, inner) : walk(branch, inner, entersScope);
        return masked === null ? null : { [key]: masked };
      }
    }
  };

  let value: unknown;
  if (plan.envelope === 'none') {
    value = walk(plan.tree, record, true);
  } else {
    // Debezium: the rows (`before`, `after`) are each the scope of their entity paths.
    const envelope = plan.tree as Extract<SchemaNode, { kind: 'record' }>;
    const out: Record<string, unknown> = {};
    for (const field of envelope.fields) {
      out[field.name] = walk(field.node, (record as Record<string, unknown>)[field.name], field.name === 'before' || field.name === 'after');
    }
    value = out;
  }
  const fields = plan.decisions.filter((_, i) => applied.has(i));
  const detections = [...found.entries()]
    .sort(([a], [b]) => a - b)
    .map(([slot, bits]): Detection => ({
      path: plan.scannedPaths[slot]!,
      detectors: DETECTOR_NAMES.filter((_, i) => (bits & (1 << i)) !== 0),
      outcome: plan.onDetected === 'alert' ? 'alerted' : 'scrubbed',
    }));
  return { value, fields, detections };
}

/**
 * The value at a dotted entity path in a decoded row, following the schema from the row record: a union
 * on the way holds `{"branch": value}`, and only its record branch leads on; null when absent.
 */
function readEntity(scope: SchemaNode | undefined, row: unknown, entityPath: string): unknown {
  let node = scope;
  let value = row;
  for (const name of entityPath.split('.')) {
    if (node?.kind === 'union') [node, value] = unwrap(node, value);
    if (node?.kind !== 'record' || value === null) return null;
    const field = node.fields.find((f) => f.name === name);
    if (field === undefined) return null;
    node = field.node;
    value = (value as Record<string, unknown>)[field.name];
  }
  if (node?.kind === 'union') [node, value] = unwrap(node, value);
  return value ?? null;
}

function unwrap(union: Extract<SchemaNode, { kind: 'union' }>, value: unknown): [SchemaNode | undefined, unknown] {
  if (value === null) return [undefined, null];
  const [key, inner] = Object.entries(value as Record<string, unknown>)[0]!;
  return [union.branches.find((b) => b.kind !== 'union' && b.branchName === key), inner];
}

/**
 * The documented date shift: digest = HMAC-SHA256(key, pad64(UTF-8(domain) ‖ 0x00) ‖ entity), where the
 * entity is its raw bytes, or the UTF-8 of its text (numbers as decimal text; a null entity as "\0null");
 * magnitude = 1 + (big-endian u32 of digest[0..4]) mod maxDays; negative when digest[4] is odd.
 */
function shiftOf(secret: Uint8Array, domain: string, entity: unknown, maxDays: number): number {
  const domainBytes = Buffer.from(domain, 'utf8');
  const block = Buffer.alloc(Math.ceil((domainBytes.length + 1) / 64) * 64);
  domainBytes.copy(block);
  const value = Buffer.isBuffer(entity) ? entity : Buffer.from(entity === null || entity === undefined ? '\u0000null' : String(entity), 'utf8');
  const digest = createHmac('sha256', secret).update(block).update(value).digest();
  const magnitude = 1 + (digest.readUInt32BE(0) % maxDays);
  return (digest[4]! & 1) === 1 ? -magnitude : magnitude;
}
