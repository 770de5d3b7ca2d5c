import { MaskerError } from '../errors.js';
import { isAvroLong } from './actions/action-types.js';
import { displayPath, joinPath } from './path-glob.js';
import type { ScalarNode, SchemaNode } from './schema-tree.js';

/**
 * Walking Avro binary with a schema tree: a cursor that reads the input and writes an output built from
 * copied spans and replaced values, and per-node readers, checkers, writers and skippers. Every read is
 * bounds-checked and every value's framing validated (lengths, union and enum indexes, booleans, int
 * ranges, block counts bounded by the bytes left, sized blocks exact); a failure is MASKER_DECODE naming
 * the schema path, never a value. Values decode to what avsc decodes them to. The byte path
 * (transcode.ts) builds on this.
 */

/** A read position over one Avro body and, when writing, the output built so far. */
export class Cursor {
  pos: number;
  /** Input before this position is already in the output (or was replaced there). */
  pending: number;
  out: Buffer;
  len: number;

  /** Reads `buf[start..end)`; output starts after `reserve` bytes left for the caller. */
  constructor(readonly buf: Buffer, start: number, readonly end: number, reserve = 0) {
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

  /** The output so far as a buffer of its own (the scratch it was written in is reused by the next call). */
  takeOutput(): Buffer {
    const result = Buffer.allocUnsafe(this.len);
    this.out.copy(result, 0, 0, this.len);
    // One huge record should not keep a huge scratch alive.
    if (scratch.length > 64 * SCRATCH_BYTES) scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
    return result;
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

export function decodeError(where: string, what: string): MaskerError {
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

export type Step = (c: Cursor) => void;
export type Decode = (c: Cursor) => unknown;
export type Encode = (c: Cursor, value: unknown) => void;

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;

function readInt(c: Cursor, where: string): number {
  const n = readLong(c, where);
  if (n < INT_MIN || n > INT_MAX) throw decodeError(where, 'an int outside 32 bits');
  return n;
}

export function readIndex(c: Cursor, where: string, count: number, what: string): number {
  const i = readLong(c, where);
  if (i < 0 || i >= count) throw decodeError(where, `${what} index ${i} out of range (0..${count - 1})`);
  return i;
}

/** Reads one scalar as avsc decodes it (same JS value, so operators and caches behave the same). */
export function scalarDecoder(node: ScalarNode, where: string): Decode {
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

/** What a screening decoder returns for a value it did not decode: the operator has nothing to do. */
export const SCREENED_OUT: unique symbol = Symbol('screened out');

/** Every detector's finding holds an `@` or a `:`, or two ASCII digits in a string of seven characters or more. */
const SCREEN_MIN_DIGITS = 2;
const SCREEN_MIN_LENGTH = 7;

/**
 * A string decoder for the safety net's scan: a string that cannot hold anything a detector finds — no `@`,
 * no `:`, and fewer than two digits or seven characters (an email needs `@`, IPv6 `:`, an IBAN two check
 * digits in 15+ characters, IPv4, phones, cards and SSNs 4-19 digits) — is skipped without decoding.
 */
export function screenedStringDecoder(where: string): Decode {
  return (c) => {
    const n = readLong(c, where);
    const at = c.pos;
    advance(c, n, where);
    const buf = c.buf;
    let digits = 0;
    for (let i = at, end = at + n; i < end; i++) {
      const b = buf[i]!;
      if (b === 0x40 || b === 0x3a) return readUtf8(buf, at, end);
      if (b >= 0x30 && b <= 0x39) digits++;
    }
    return digits >= SCREEN_MIN_DIGITS && n >= SCREEN_MIN_LENGTH ? readUtf8(buf, at, at + n) : SCREENED_OUT;
  };
}

/** Whether a masked value fits the scalar's Avro type (what avsc's isValid says, without its overhead). */
export function scalarCheck(node: ScalarNode): (value: unknown) => boolean {
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
export function scalarEncoder(node: ScalarNode): Encode {
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

export function skipper(node: SchemaNode, where: string): Step {
  switch (node.kind) {
    case 'scalar':
      return scalarSkipper(node, where);
    case 'record': {
      const fields = node.fields.map((f) => skipper(f.node, joinPath(where, f.name)));
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

export function skipString(where: string): Step {
  return (c) => advance(c, readLong(c, where), where);
}

export function scalarSkipper(node: ScalarNode, where: string): Step {
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
export function minSize(node: SchemaNode): number {
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
export function blocks<C extends Cursor>(item: (c: C) => void, key: Step | undefined, itemMin: number, where: string, rewrites: boolean): (c: C) => void {
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
