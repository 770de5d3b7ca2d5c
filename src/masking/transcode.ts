import { MaskerError } from '../errors.js';
import { isAvroLong } from './actions/action-types.js';
import { DEBEZIUM_ROW_FIELDS, debeziumRoot } from './discovery.js';
import { displayPath, pathTokens } from './path-glob.js';
import type { LeafWork } from './plan-builder.js';
import { leafApplier } from './plan-builder.js';
import type { PlanInternals } from './plan-internals.js';
import type { RecordContext, ShiftRuntime } from './record-context.js';
import type { FieldNode, RecordNode, ScalarNode, SchemaNode, UnionNode } from './schema-tree.js';

/**
 * The byte-level path of a plan: masks an Avro binary body without decoding the record. It walks the
 * bytes with the schema, checking every value's framing as it goes (lengths, union and enum indexes,
 * booleans, int ranges, the exact end), decodes only the leaves the plan works on, runs the same
 * operators as `maskRecord` (same decisions, caches, errors), checks each masked value against its Avro
 * type and writes it in place. Everything else is copied as bytes, in as few copies as there are masked
 * leaves. For a body written by a canonical encoder (avsc, the Java library) the output is byte-for-byte
 * what decode → maskRecord → encode gives; the property tests hold it to that.
 *
 * Differences from decoding, all on purpose: a long beyond ±2^53 in a field the plan does not touch is
 * copied exactly (decoding would refuse it: avsc cannot hold it in a JS number), and string bytes outside
 * masked leaves are not UTF-8-checked (they are copied, never interpreted).
 */

/** Where an entity path starts: the row being masked, as a position in the input. */
interface RowRef {
  readonly buf: Buffer;
  readonly pos: number;
  readonly end: number;
}

/** A read position over one Avro body and, when writing, the output built so far. */
class Cursor {
  pos: number;
  /** Input before this position is already in the output (or was replaced there). */
  pending: number;
  out: Buffer;
  len: number;

  constructor(readonly buf: Buffer, start: number, readonly end: number, readonly ctx: RecordContext | undefined, reserve: number) {
    this.pos = start;
    this.pending = start;
    this.out = scratch;
    this.len = reserve;
  }

  ensure(n: number): void {
    if (this.len + n <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.len + n, this.out.length * 2));
    this.out.copy(grown, 0, 0, this.len);
    this.out = grown;
    scratch = grown;
  }

  /** Copies the input not yet copied, up to `upTo`, to the output. */
  flush(upTo: number): void {
    const n = upTo - this.pending;
    if (n <= 0) return;
    this.ensure(n);
    const { buf, out } = this;
    if (n < 128) {
      let o = this.len;
      for (let i = this.pending; i < upTo; i++) out[o++] = buf[i]!;
    } else {
      buf.copy(out, this.len, this.pending, upTo);
    }
    this.len += n;
    this.pending = upTo;
  }

  writeLong(n: number): void {
    this.ensure(10);
    const out = this.out;
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 0x80) {
      out[this.len++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    out[this.len++] = z;
  }

  writeBytes(bytes: Uint8Array): void {
    this.writeLong(bytes.length);
    this.ensure(bytes.length);
    this.out.set(bytes, this.len);
    this.len += bytes.length;
  }

  writeString(s: string): void {
    const units = s.length;
    // Short ASCII (most masked values): a one-byte length and a plain loop, no native call.
    if (units < 64) {
      this.ensure(units + 1);
      const out = this.out;
      const at = this.len + 1;
      let i = 0;
      for (; i < units; i++) {
        const code = s.charCodeAt(i);
        if (code >= 0x80) break;
        out[at + i] = code;
      }
      if (i === units) {
        out[this.len] = units * 2;
        this.len = at + units;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.writeLong(n);
    this.ensure(n);
    writeUtf8(this.out, s, this.len);
    this.len += n;
  }
}

/**
 * Node's Buffer has native UTF-8 slice / write methods, which `toString` / `write` call after checking
 * and defaulting their arguments (a third of the cost for short strings). avsc relies on them too; if a
 * runtime lacks them, the public methods are used.
 */
interface NativeUtf8 {
  utf8Slice(start: number, end: number): string;
  utf8Write(text: string, offset: number): number;
}
const NATIVE_UTF8 = typeof (Buffer.prototype as Partial<NativeUtf8>).utf8Slice === 'function'
  && typeof (Buffer.prototype as Partial<NativeUtf8>).utf8Write === 'function';

function readUtf8(buf: Buffer, start: number, end: number): string {
  return NATIVE_UTF8 ? (buf as Buffer & NativeUtf8).utf8Slice(start, end) : buf.toString('utf8', start, end);
}

function writeUtf8(buf: Buffer, text: string, offset: number): void {
  if (NATIVE_UTF8) (buf as Buffer & NativeUtf8).utf8Write(text, offset);
  else buf.write(text, offset, 'utf8');
}

/** Output scratch, shared by all calls (synchronous; the result is copied out of it). */
const SCRATCH_BYTES = 16 * 1024;
let scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

function decodeError(where: string, what: string): MaskerError {
  return new MaskerError('MASKER_DECODE', `Avro body does not decode at ${displayPath(where)}: ${what}`);
}

function truncated(where: string): MaskerError {
  return decodeError(where, 'the body ends inside this value (truncated)');
}

/** A zigzag varint (Avro int / long) as a JS number; exact up to 2^53. */
function readLong(c: Cursor, where: string): number {
  const buf = c.buf;
  let pos = c.pos;
  let b = buf[pos++] ?? 0;
  let n = b & 0x7f;
  let value: number;
  if (b < 0x80) {
    value = (n >>> 1) ^ -(n & 1);
  } else {
    let shift = 7;
    do {
      b = buf[pos++] ?? 0;
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 28);
    if (b < 0x80) {
      value = (n >>> 1) ^ -(n & 1);
    } else {
      let f = n;
      let scale = 0x10000000;
      do {
        b = buf[pos++] ?? 0;
        f += (b & 0x7f) * scale;
        scale *= 0x80;
      } while (b >= 0x80 && pos - c.pos < 10);
      if (b >= 0x80) throw decodeError(where, 'a varint longer than 10 bytes');
      value = f % 2 === 1 ? -(f + 1) / 2 : f / 2;
    }
  }
  if (pos > c.end) throw truncated(where);
  c.pos = pos;
  return value;
}

function advance(c: Cursor, n: number, where: string): void {
  if (n < 0) throw decodeError(where, 'a negative length');
  if (c.pos + n > c.end) throw truncated(where);
  c.pos += n;
}

type Step = (c: Cursor) => void;
type Decode = (c: Cursor) => unknown;
type Encode = (c: Cursor, value: unknown) => void;

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;

function readInt(c: Cursor, where: string): number {
  const n = readLong(c, where);
  if (n < INT_MIN || n > INT_MAX) throw decodeError(where, 'an int outside 32 bits');
  return n;
}

function readIndex(c: Cursor, where: string, count: number, what: string): number {
  const i = readLong(c, where);
  if (i < 0 || i >= count) throw decodeError(where, `${what} index ${i} out of range (0..${count - 1})`);
  return i;
}

/** Reads one scalar as avsc decodes it (same JS value, so operators and caches behave the same). */
function scalarDecoder(node: ScalarNode, where: string): Decode {
  switch (node.scalar) {
    case 'null':
      return () => null;
    case 'boolean':
      return (c) => {
        if (c.pos >= c.end) throw truncated(where);
        const b = c.buf[c.pos++]!;
        if (b > 1) throw decodeError(where, 'a boolean byte other than 0 or 1');
        return b === 1;
      };
    case 'int':
      return (c) => readInt(c, where);
    case 'long':
      return (c) => {
        const n = readLong(c, where);
        if (!isAvroLong(n)) throw decodeError(where, 'a long beyond ±(2^53 - 2) cannot be masked exactly');
        return n;
      };
    case 'float':
      return (c) => {
        const at = c.pos;
        advance(c, 4, where);
        return c.buf.readFloatLE(at);
      };
    case 'double':
      return (c) => {
        const at = c.pos;
        advance(c, 8, where);
        return c.buf.readDoubleLE(at);
      };
    case 'string':
      return (c) => {
        const n = readLong(c, where);
        const at = c.pos;
        advance(c, n, where);
        return readUtf8(c.buf, at, at + n);
      };
    case 'bytes':
      return (c) => {
        const n = readLong(c, where);
        const at = c.pos;
        advance(c, n, where);
        return Buffer.from(c.buf.subarray(at, at + n));
      };
    case 'fixed': {
      const size = node.size ?? 0;
      return (c) => {
        const at = c.pos;
        advance(c, size, where);
        return Buffer.from(c.buf.subarray(at, at + size));
      };
    }
    case 'enum': {
      const symbols = node.symbols ?? [];
      return (c) => symbols[readIndex(c, where, symbols.length, 'enum')];
    }
  }
}

/** Whether a masked value fits the scalar's Avro type (what avsc's isValid says, without its overhead). */
function scalarCheck(node: ScalarNode): (value: unknown) => boolean {
  switch (node.scalar) {
    case 'null':
      return (v) => v === null;
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'int':
      return (v) => typeof v === 'number' && (v | 0) === v;
    case 'long':
      return (v) => typeof v === 'number' && isAvroLong(v);
    case 'float':
    case 'double':
      return (v) => typeof v === 'number';
    case 'string':
      return (v) => typeof v === 'string';
    case 'bytes':
      return (v) => Buffer.isBuffer(v);
    case 'fixed': {
      const size = node.size ?? 0;
      return (v) => Buffer.isBuffer(v) && v.length === size;
    }
    case 'enum': {
      const symbols = new Set(node.symbols ?? []);
      return (v) => typeof v === 'string' && symbols.has(v);
    }
  }
}

/** Writes a value already checked against the scalar's type. */
function scalarEncoder(node: ScalarNode): Encode {
  switch (node.scalar) {
    case 'null':
      return () => undefined;
    case 'boolean':
      return (c, v) => {
        c.ensure(1);
        c.out[c.len++] = v === true ? 1 : 0;
      };
    case 'int':
    case 'long':
      return (c, v) => c.writeLong(v as number);
    case 'float':
      return (c, v) => {
        c.ensure(4);
        c.len = c.out.writeFloatLE(v as number, c.len);
      };
    case 'double':
      return (c, v) => {
        c.ensure(8);
        c.len = c.out.writeDoubleLE(v as number, c.len);
      };
    case 'string':
      return (c, v) => c.writeString(v as string);
    case 'bytes':
      return (c, v) => c.writeBytes(v as Uint8Array);
    case 'fixed':
      return (c, v) => {
        const bytes = v as Uint8Array;
        c.ensure(bytes.length);
        c.out.set(bytes, c.len);
        c.len += bytes.length;
      };
    case 'enum': {
      const index = new Map((node.symbols ?? []).map((s, i) => [s, i]));
      return (c, v) => c.writeLong(index.get(v as string)!);
    }
  }
}

function skipper(node: SchemaNode, where: string): Step {
  switch (node.kind) {
    case 'scalar':
      return scalarSkipper(node, where);
    case 'record': {
      const fields = node.fields.map((f) => skipper(f.node, join(where, f.name)));
      if (fields.length === 0) return () => undefined;
      return (c) => {
        for (let i = 0; i < fields.length; i++) fields[i]!(c);
      };
    }
    case 'array':
      return blocks(skipper(node.items, `${where}[]`), undefined, minSize(node.items), where, false);
    case 'map':
      return blocks(skipper(node.values, `${where}{}`), skipString(`${where}{}`), minSize(node.values), where, false);
    case 'union': {
      const branches = node.branches.map((b) => skipper(b, where));
      return (c) => branches[readIndex(c, where, branches.length, 'union')]!(c);
    }
  }
}

function skipString(where: string): Step {
  return (c) => advance(c, readLong(c, where), where);
}

function scalarSkipper(node: ScalarNode, where: string): Step {
  switch (node.scalar) {
    case 'null':
      return () => undefined;
    case 'long':
      return (c) => void readLong(c, where);
    case 'float':
      return (c) => advance(c, 4, where);
    case 'double':
      return (c) => advance(c, 8, where);
    case 'string':
    case 'bytes':
      return skipString(where);
    case 'fixed': {
      const size = node.size ?? 0;
      return (c) => advance(c, size, where);
    }
    default: {
      const decode = scalarDecoder(node, where);
      return (c) => void decode(c);
    }
  }
}

/** The fewest bytes a value of this node takes (bounds block counts against the bytes left). */
function minSize(node: SchemaNode): number {
  switch (node.kind) {
    case 'scalar':
      return node.scalar === 'null' ? 0 : node.scalar === 'fixed' ? node.size ?? 0 : node.scalar === 'float' ? 4 : node.scalar === 'double' ? 8 : 1;
    case 'record':
      return node.fields.reduce((sum, f) => sum + minSize(f.node), 0);
    default:
      return 1;
  }
}

/** Items of empty types take no bytes: a count beyond this is refused rather than looped over. */
const MAX_EMPTY_ITEMS = 1_000_000;

/**
 * Array / map blocks: a count, (map: a key per entry,) the items; a negative count is followed by the
 * block's byte size. When the items may change size (`rewrites`), a sized block header is replaced by a
 * plain count, since the size would no longer be right.
 */
function blocks(item: Step, key: Step | undefined, itemMin: number, where: string, rewrites: boolean): Step {
  return (c) => {
    for (;;) {
      const header = c.pos;
      let count = readLong(c, where);
      if (count === 0) return;
      const sized = count < 0;
      let size = 0;
      if (sized) {
        count = -count;
        size = readLong(c, where);
        if (rewrites) {
          c.flush(header);
          c.writeLong(count);
          c.pending = c.pos;
        }
      }
      if (itemMin > 0 ? count * itemMin > c.end - c.pos : count > MAX_EMPTY_ITEMS) throw truncated(where);
      const itemsStart = c.pos;
      for (let i = 0; i < count; i++) {
        if (key !== undefined) key(c);
        item(c);
      }
      // A reader may skip a sized block by its size: a size that lies would shift every field after it.
      if (sized && size !== c.pos - itemsStart) throw decodeError(where, 'a block byte size that does not match its items');
    }
  };
}

function join(where: string, name: string): string {
  return where === '' ? name : `${where}.${name}`;
}

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
function leafStep(node: ScalarNode, work: LeafWork, where: string): Step | undefined {
  const apply = leafApplier(work, node);
  if (apply === undefined) return undefined;
  const decode = valueReader(node, work, where);
  const encode = scalarEncoder(node);
  const valid = scalarCheck(node);
  const reuse = reusesInput(node);
  return (c) => {
    const start = c.pos;
    const value = decode(c);
    const masked = apply(value, c.ctx!);
    if (reuse && masked === value) return;
    if (!valid(masked)) throw outputInvalid(work);
    c.flush(start);
    encode(c, masked);
    c.pending = c.pos;
  };
}

/** What the operator gets: the decoded value, or — for an operator that ignores it — nothing (skipped). */
function valueReader(node: ScalarNode, work: LeafWork, where: string): Decode {
  if (work.ops.get(node)?.constant !== true) return scalarDecoder(node, where);
  const skip = scalarSkipper(node, where);
  return (c) => {
    skip(c);
    return undefined;
  };
}

/** A branch of a union with work: handles the value after the branch index (read at `indexAt`). */
type BranchStep = (c: Cursor, indexAt: number) => void;

function unionStep(node: UnionNode, plan: Compiler, where: string, entersScope: boolean): Step | undefined {
  const work = plan.decided.get(node);
  const nullIndex = node.branches.findIndex((b) => b.kind === 'scalar' && b.scalar === 'null');
  let worked = false;
  const branches = node.branches.map((branch): BranchStep => {
    if (branch.kind === 'scalar') {
      const apply = work === undefined || branch.scalar === 'null' ? undefined : leafApplier(work, branch);
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
        const masked = apply(value, c.ctx!);
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
  constructor(readonly decided: ReadonlyMap<SchemaNode, LeafWork>) {}

  /** A step for a subtree with work, or undefined when nothing in it changes. */
  step(node: SchemaNode, where: string, entersScope: boolean): Step | undefined {
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

  record(node: RecordNode, where: string, entersScope: boolean, only?: (field: FieldNode) => boolean): Step | undefined {
    let worked = false;
    const fields = node.fields.map((f): Step => {
      const fieldWhere = join(where, f.name);
      const step = only === undefined || only(f) ? this.step(f.node, fieldWhere, only !== undefined) : undefined;
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
      c.ctx!.enterRow(row);
      for (let i = 0; i < count; i++) fields[i]!(c);
    };
  }
}

/** Reads a date-shift entity from the row's bytes: the same value `entityReader` reads from a decoded row. */
function entityBytesReader(spec: ShiftRuntime): (row: unknown) => unknown {
  if (spec.entityPath === undefined || spec.scope === undefined) return spec.readEntity;
  const tokens = pathTokens(spec.entityPath);
  interface Hop { readonly record: RecordNode; readonly before: readonly Step[]; readonly next: SchemaNode }
  const hops: Hop[] = [];
  let node: SchemaNode = spec.scope;
  let where = '';
  for (const name of tokens) {
    const record: RecordNode | undefined = node.kind === 'record' ? node : node.kind === 'union' ? onlyRecordBranch(node) : undefined;
    const index: number = record === undefined ? -1 : record.fields.findIndex((f) => f.name === name);
    if (record === undefined || index < 0) return spec.readEntity; // not reachable: the plan checked the path
    hops.push({ record, before: record.fields.slice(0, index).map((f) => skipper(f.node, join(where, f.name))), next: record.fields[index]!.node });
    where = join(where, name);
    node = record.fields[index]!.node;
  }
  const leaf = node;
  const leafWhere = where;
  const decoders = (leaf.kind === 'union' ? leaf.branches : [leaf]).map((n) => (n.kind === 'scalar' ? scalarDecoder(n, leafWhere) : () => null));
  const readLeaf = (c: Cursor): unknown => {
    if (leaf.kind !== 'union') return decoders[0]!(c);
    return decoders[readIndex(c, leafWhere, decoders.length, 'union')]!(c);
  };
  return (row) => {
    const ref = row as RowRef;
    const c = new Cursor(ref.buf, ref.pos, ref.end, undefined, 0);
    let at: SchemaNode = spec.scope!;
    for (const hop of hops) {
      if (at.kind === 'union') {
        const branch = at.branches[readIndex(c, '', at.branches.length, 'union')];
        if (branch !== hop.record) return null;
      }
      for (const skip of hop.before) skip(c);
      at = hop.next;
    }
    return readLeaf(c) ?? null;
  };
}

function onlyRecordBranch(node: UnionNode): RecordNode | undefined {
  const records = node.branches.filter((b): b is RecordNode => b.kind === 'record');
  return records.length === 1 ? records[0] : undefined;
}

/** A plan's byte path: the root step (undefined when nothing is masked) and its date-shift readers. */
export interface Transcoder {
  readonly root: Step | undefined;
  readonly skipAll: Step;
  readonly shiftSpecs: readonly ShiftRuntime[];
}

export function compileTranscoder(internals: PlanInternals, envelope: 'debezium' | 'none'): Transcoder {
  const compiler = new Compiler(internals.decided);
  const tree = internals.tree;
  const rows = new Set<string>(DEBEZIUM_ROW_FIELDS);
  const root = envelope === 'none'
    ? compiler.step(tree, '', true)
    : compiler.record(debeziumRoot(tree), '', false, (f) => rows.has(f.name));
  return {
    root,
    skipAll: skipper(tree, ''),
    shiftSpecs: internals.shiftSpecs.map((spec) => ({ ...spec, readEntity: entityBytesReader(spec) })),
  };
}

/**
 * Checks that `data` is a sequence of whole records (an object container block's payload): every value
 * frames as the schema says, block counts bounded by the bytes left. Returns how many records it holds.
 */
export function frameRecords(t: Transcoder, data: Buffer): number {
  const c = new Cursor(data, 0, data.length, undefined, 0);
  let records = 0;
  while (c.pos < c.end) {
    t.skipAll(c);
    records++;
  }
  return records;
}

/**
 * Runs a transcoder over `body[start..end)`; returns the masked body with `reserve` bytes in front left
 * for the caller (a wire-format header). `ctx` must be built with the transcoder's shift specs.
 */
export function transcode(t: Transcoder, body: Buffer, ctx: RecordContext, reserve: number): Buffer {
  const c = new Cursor(body, 0, body.length, ctx, reserve);
  (t.root ?? t.skipAll)(c);
  if (c.pos !== c.end) throw decodeError('', `${c.end - c.pos} byte(s) after the end of the record (trailing data)`);
  c.flush(c.end);
  const result = Buffer.allocUnsafe(c.len);
  c.out.copy(result, 0, 0, c.len);
  // One huge record should not keep a huge scratch alive.
  if (scratch.length > 64 * SCRATCH_BYTES) scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  return result;
}
