import avro from 'avsc';
import { MaskerError } from '../errors.js';
import { displayPath, joinPath } from './path-glob.js';
import type { ScalarNode, SchemaNode, UnionNode } from './schema-tree.js';

/**
 * maskRecord's way back from Avro bytes to the caller's values. It masks a decoded record by encoding it,
 * masking the body and decoding the result; encoding a JS value to Avro and decoding it back is not the
 * identity for three kinds of leaf:
 * - a float is rounded to 32 bits (`0.1` comes back as `0.10000000149011612`);
 * - avsc's long codec is exact only above -2^52 (a long below it comes back as another number);
 * - a string with a lone surrogate comes back with U+FFFD in its place.
 * The record came in as the caller's values (Avro JSON lines, the HTTP API), and the caller prints them:
 * a leaf the plan does not mask (no rule, `keep`, the safety net's scan) is given back as the caller's own value when the
 * output holds what the codec made of it; a masked float as the shortest decimal that is the same 32-bit
 * float (as Java's `Float.toString` prints it). A masked leaf never gets its input back. Every other leaf
 * is the decoded value. Containers of the output are fresh (decoded), so they are updated in place.
 *
 * `unmasked(node)`: whether the plan leaves the leaf at this node (a scalar node, or the union node of a
 * union leaf) as it is.
 */
export function restoreUnmaskedLeaves(node: SchemaNode, input: unknown, output: unknown, unmasked: (node: SchemaNode) => boolean, path = ''): unknown {
  switch (node.kind) {
    case 'scalar':
      return restoreScalar(node, input, output, unmasked(node));
    case 'record': {
      const from = input as Record<string, unknown>;
      const to = output as Record<string, unknown>;
      for (const field of node.fields) to[field.name] = restoreUnmaskedLeaves(field.node, from[field.name], to[field.name], unmasked, joinPath(path, field.name));
      return output;
    }
    case 'array': {
      const from = input as readonly unknown[];
      const to = output as unknown[];
      for (let i = 0; i < to.length; i++) to[i] = restoreUnmaskedLeaves(node.items, from[i], to[i], unmasked, `${path}[]`);
      return output;
    }
    case 'map': {
      const from = input as Record<string, unknown>;
      const to = output as Record<string, unknown>;
      for (const key of Object.keys(from)) {
        // A decoded map cannot hold this key as an entry: the decoder's assignment sets the prototype.
        if (key === '__proto__') throw new MaskerError('MASKER_RECORD_SHAPE', `${displayPath(`${path}{}`)}: a map key "__proto__" cannot be held by a decoded map`);
        to[key] = restoreUnmaskedLeaves(node.values, from[key], to[key], unmasked, `${path}{}`);
      }
      return output;
    }
    case 'union':
      return restoreUnion(node, input, output, unmasked, path);
  }
}

function restoreUnion(node: UnionNode, input: unknown, output: unknown, unmasked: (node: SchemaNode) => boolean, path: string): unknown {
  if (output === null || input === null) return output;
  // The branch the output holds, and the input's value in that branch (if the input holds it too).
  let branch: SchemaNode | undefined;
  let from: unknown;
  let to: unknown;
  if (node.wrapped) {
    const key = Object.keys(output as object)[0];
    branch = node.branches.find((b) => b.kind !== 'union' && b.branchName === key);
    if (key === undefined || branch === undefined || !Object.hasOwn(input as object, key)) return output;
    from = (input as Record<string, unknown>)[key];
    to = (output as Record<string, unknown>)[key];
    const restored = branch.kind === 'scalar' ? restoreScalar(branch, from, to, unmasked(node)) : restoreUnmaskedLeaves(branch, from, to, unmasked, path);
    (output as Record<string, unknown>)[key] = restored;
    return output;
  }
  // An unwrapped union has one branch per kind of JS value (avsc refuses ambiguous ones).
  const bucket = valueBucket(output);
  branch = node.branches.find((b) => nodeBucket(b) === bucket);
  if (branch === undefined || valueBucket(input) !== bucket) return output;
  return branch.kind === 'scalar' ? restoreScalar(branch, input, output, unmasked(node)) : restoreUnmaskedLeaves(branch, input, output, unmasked, path);
}

function restoreScalar(node: ScalarNode, input: unknown, output: unknown, unmasked: boolean): unknown {
  if (output === input) return output;
  switch (node.scalar) {
    case 'float':
      if (typeof input !== 'number' || typeof output !== 'number') return output;
      return unmasked && Object.is(Math.fround(input), output) ? input : shortestFloat(output);
    case 'long':
      return unmasked && typeof input === 'number' && input < -LONG_EXACT && output === LONG.fromBuffer(LONG.toBuffer(input)) ? input : output;
    case 'string':
      return unmasked && typeof input === 'string' && SURROGATE.test(input) && output === STRING.fromBuffer(STRING.toBuffer(input)) ? input : output;
    default:
      return output;
  }
}

/** The shortest decimal (1 to 9 significant digits) that is the same 32-bit float as `value`. */
function shortestFloat(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/**
 * Whether restoring can change anything for a record of this tree encoded as `body`: the schema has a
 * float leaf, or the body may hold a long beyond ±2^52 (a varint of 2^53 or more: seven continuation
 * bytes and a last byte of 0x10 or more, or longer), a lone surrogate
 * (avsc writes it as ED A0-BF xx, or as EF BF BD in long strings) or a map key "__proto__". A cheap scan
 * of the bytes, so that most records skip the walk; a false alarm only costs the walk.
 */
export function mayNeedRestoring(tree: SchemaNode, body: Buffer): boolean {
  if (containsFloat(tree)) return true;
  let continuations = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === 0xed || b === 0xef) return true;
    if (continuations >= 7 && b >= 0x10) return true;
    continuations = b < 0x80 ? 0 : continuations + 1;
  }
  return body.includes(PROTO_KEY);
}

const PROTO_KEY = Buffer.from('__proto__');

function containsFloat(node: SchemaNode): boolean {
  switch (node.kind) {
    case 'scalar':
      return node.scalar === 'float';
    case 'record':
      return node.fields.some((f) => containsFloat(f.node));
    case 'array':
      return containsFloat(node.items);
    case 'map':
      return containsFloat(node.values);
    case 'union':
      return node.branches.some(containsFloat);
  }
}

/** avsc's codecs, to tell what encoding and decoding makes of a value (only for the inexact cases). */
const LONG = avro.Type.forSchema('long');
const STRING = avro.Type.forSchema('string');
/** avsc encodes and decodes longs exactly above -2^52 (its zigzag arithmetic leaves 53 bits below it). */
const LONG_EXACT = 4_503_599_627_370_496;
const SURROGATE = /[\uD800-\uDFFF]/;

type Bucket = 'null' | 'boolean' | 'number' | 'string' | 'buffer' | 'array' | 'object';

function valueBucket(value: unknown): Bucket | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      return Buffer.isBuffer(value) ? 'buffer' : Array.isArray(value) ? 'array' : 'object';
    default:
      return undefined;
  }
}

function nodeBucket(node: SchemaNode): Bucket {
  switch (node.kind) {
    case 'record':
    case 'map':
    case 'union':
      return 'object';
    case 'array':
      return 'array';
    case 'scalar':
      switch (node.scalar) {
        case 'null':
          return 'null';
        case 'boolean':
          return 'boolean';
        case 'string':
        case 'enum':
          return 'string';
        case 'bytes':
        case 'fixed':
          return 'buffer';
        default:
          return 'number';
      }
  }
}
