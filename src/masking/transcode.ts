import { MaskerError } from '../errors.js';
import type { Decode, Step } from './avro-bytes.js';
import {
  blocks,
  Cursor,
  decodeError,
  minSize,
  readIndex,
  scalarCheck,
  scalarDecoder,
  scalarEncoder,
  scalarSkipper,
  SCREENED_OUT,
  screenedStringDecoder,
  skipper,
  skipString,
} from './avro-bytes.js';
import type { Envelope } from './discovery.js';
import { debeziumRoot, isDebeziumRow } from './discovery.js';
import type { LeafWork } from './leaf-operator.js';
import { leafOperator } from './leaf-operator.js';
import { joinPath } from './path-glob.js';
import type { Decided } from './plan-walk.js';
import type { RecordContext, RowRef } from './record-context.js';
import type { FieldNode, RecordNode, ScalarNode, SchemaNode, UnionNode } from './schema-tree.js';

/**
 * The masking engine: masks an Avro binary body without decoding the record. It walks the bytes with the
 * schema (avro-bytes.ts checks every value's framing as it goes), decodes only the leaves the plan works
 * on, runs their operators (leaf-operator.ts: decisions, caches, errors), checks each masked value
 * against its Avro type and writes it in place. Everything else is copied as bytes, in as few copies as
 * there are masked leaves. For a body written by a canonical encoder (avsc, the Java library) the output
 * is byte-for-byte what masking the decoded record and encoding it gives: the property tests hold it to
 * that against a reference masker of decoded values (test/property/reference-masker.ts).
 *
 * Differences from decoding, all on purpose: a long beyond ±2^53 in a field the plan does not touch is
 * copied exactly (decoding would refuse it: avsc cannot hold it in a JS number), and string bytes outside
 * masked leaves are not UTF-8-checked (they are copied, never interpreted).
 */

/** A cursor over the record being masked, with the record's masking context. */
class MaskCursor extends Cursor {
  constructor(buf: Buffer, readonly ctx: RecordContext, reserve: number) {
    super(buf, 0, buf.length, reserve);
  }
}

type MaskStep = (c: MaskCursor) => void;

function outputInvalid(work: LeafWork): MaskerError {
  return new MaskerError('MASKER_OUTPUT_INVALID', `masked record does not validate against the schema at ${work.label}`);
}

/**
 * Whether an operator's output identical (===) to its input may keep the input bytes. Not for floats:
 * -0 === 0 (redacting -0 must not leave the sign) and a NaN's payload bits are not its value.
 */
function reusesInput(node: ScalarNode): boolean {
  return node.scalar !== 'float' && node.scalar !== 'double';
}

/** A masked scalar leaf: decode, run the operator, check, write in place of the input bytes. */
function leafStep(node: ScalarNode, work: LeafWork, where: string): MaskStep | undefined {
  const apply = leafOperator(work, node);
  if (apply === undefined) return undefined;
  const decode = valueReader(node, work, where);
  const encode = scalarEncoder(node);
  const valid = scalarCheck(node);
  const reuse = reusesInput(node);
  return (c) => {
    const start = c.pos;
    const value = decode(c);
    if (value === SCREENED_OUT) return;
    const masked = apply(value, c.ctx);
    if (reuse && masked === value) return;
    if (!valid(masked)) throw outputInvalid(work);
    c.flush(start);
    encode(c, masked);
    c.pending = c.pos;
  };
}

/** What the operator gets: the decoded value, or — for an operator that ignores it — nothing (skipped). */
function valueReader(node: ScalarNode, work: LeafWork, where: string): Decode {
  if (work.scanOnly === true && node.scalar === 'string') return screenedStringDecoder(where);
  if (work.ops.get(node)?.constant !== true) return scalarDecoder(node, where);
  const skip = scalarSkipper(node, where);
  return (c) => {
    skip(c);
    return undefined;
  };
}

/** A branch of a union with work: handles the value after the branch index (read at `indexAt`). */
type BranchStep = (c: MaskCursor, indexAt: number) => void;

function unionStep(node: UnionNode, plan: Compiler, where: string, entersScope: boolean): MaskStep | undefined {
  const work = plan.decided.get(node);
  const nullIndex = node.branches.findIndex((b) => b.kind === 'scalar' && b.scalar === 'null');
  let worked = false;
  const branches = node.branches.map((branch): BranchStep => {
    if (branch.kind === 'scalar') {
      const apply = work === undefined || branch.scalar === 'null' ? undefined : leafOperator(work, branch);
      if (apply === undefined || work === undefined) {
        const skip = scalarSkipper(branch, where);
        return (c) => skip(c);
      }
      worked = true;
      const decode = valueReader(branch, work, where);
      const encode = scalarEncoder(branch);
      const valid = scalarCheck(branch);
      const reuse = reusesInput(branch);
      return (c, indexAt) => {
        const start = c.pos;
        const value = decode(c);
        if (value === SCREENED_OUT) return;
        const masked = apply(value, c.ctx);
        if (reuse && masked === value) return;
        if (masked === null) {
          if (nullIndex < 0) throw outputInvalid(work);
          c.flush(indexAt);
          c.writeLong(nullIndex);
        } else {
          if (!valid(masked)) throw outputInvalid(work);
          c.flush(start);
          encode(c, masked);
        }
        c.pending = c.pos;
      };
    }
    const step = plan.step(branch, where, entersScope);
    if (step === undefined) {
      const skip = skipper(branch, where);
      return (c) => skip(c);
    }
    worked = true;
    return (c) => step(c);
  });
  if (!worked) return undefined;
  return (c) => {
    const indexAt = c.pos;
    branches[readIndex(c, where, branches.length, 'union')]!(c, indexAt);
  };
}

/** Compiles steps for the nodes under work; nodes without work get skippers. */
class Compiler {
  constructor(readonly decided: Decided) {}

  /** A step for a subtree with work, or undefined when nothing in it changes. */
  step(node: SchemaNode, where: string, entersScope: boolean): MaskStep | undefined {
    switch (node.kind) {
      case 'scalar': {
        const work = this.decided.get(node);
        return work === undefined || node.scalar === 'null' ? undefined : leafStep(node, work, where);
      }
      case 'record':
        return this.record(node, where, entersScope);
      case 'array': {
        const items = this.step(node.items, `${where}[]`, false);
        return items === undefined ? undefined : blocks(items, undefined, minSize(node.items), where, true);
      }
      case 'map': {
        const values = this.step(node.values, `${where}{}`, false);
        return values === undefined ? undefined : blocks(values, skipString(`${where}{}`), minSize(node.values), where, true);
      }
      case 'union':
        return unionStep(node, this, where, entersScope);
    }
  }

  /** `fieldScope`: which fields are rows of their own (the Debezium envelope's `before`/`after`). */
  record(node: RecordNode, where: string, entersScope: boolean, fieldScope?: (field: FieldNode) => boolean): MaskStep | undefined {
    let worked = false;
    const fields = node.fields.map((f): MaskStep => {
      const fieldWhere = joinPath(where, f.name);
      const step = this.step(f.node, fieldWhere, fieldScope?.(f) ?? false);
      if (step === undefined) return skipper(f.node, fieldWhere);
      worked = true;
      return step;
    });
    if (!worked) return undefined;
    const count = fields.length;
    if (!entersScope) {
      return (c) => {
        for (let i = 0; i < count; i++) fields[i]!(c);
      };
    }
    return (c) => {
      const row: RowRef = { buf: c.buf, pos: c.pos, end: c.end };
      c.ctx.enterRow(row);
      for (let i = 0; i < count; i++) fields[i]!(c);
    };
  }
}

/** A plan's byte path: the root step (undefined when nothing is masked), and a skipper of whole records. */
export interface Transcoder {
  readonly root: MaskStep | undefined;
  readonly skipAll: Step;
}

/**
 * Compiles the byte path of a plan from its decided leaves, once per plan. The scopes are the plan
 * walk's (plan-walk.ts): with envelope `none` the root is the row; with `debezium` the rows `before` /
 * `after` enter their own scope, and envelope fields have work only where the plan decided some (tagged
 * leaves, free text).
 */
export function compileTranscoder(tree: SchemaNode, decided: Decided, envelope: Envelope): Transcoder {
  const compiler = new Compiler(decided);
  const root = envelope === 'none'
    ? compiler.step(tree, '', true)
    : compiler.record(debeziumRoot(tree), '', false, (f) => isDebeziumRow(f.name));
  return { root, skipAll: skipper(tree, '') };
}

/**
 * Checks that `data` is a sequence of whole records (an object container block's payload): every value
 * frames as the schema says, block counts bounded by the bytes left. Returns how many records it holds.
 */
export function frameRecords(t: Transcoder, data: Buffer): number {
  const c = new Cursor(data, 0, data.length);
  let records = 0;
  while (c.pos < c.end) {
    t.skipAll(c);
    records++;
  }
  return records;
}

/**
 * Runs a transcoder over `body`; returns the masked body with `reserve` bytes in front left for the caller
 * (a wire-format header). `ctx` is the record's context, made by the plan the transcoder belongs to.
 */
export function transcode(t: Transcoder, body: Buffer, ctx: RecordContext, reserve: number): Buffer {
  const c = new MaskCursor(body, ctx, reserve);
  (t.root ?? t.skipAll)(c);
  if (c.pos !== c.end) throw decodeError('', `${c.end - c.pos} byte(s) after the end of the record (trailing data)`);
  c.flush(c.end);
  return c.takeOutput();
}
