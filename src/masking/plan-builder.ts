import { MaskerError } from '../errors.js';
import type { Envelope, LeafContext } from './discovery.js';
import { childContext, debeziumFieldContext, debeziumRoot, isDebeziumRow, itemContext, ROOT_CONTEXT } from './discovery.js';
import { leafOperator } from './leaf-operator.js';
import type { Decided } from './plan-walk.js';
import { ARRAY_TOKEN, displayPath, MAP_TOKEN } from './path-glob.js';
import type { Applier, RecordContext } from './record-context.js';
import type { RecordConstructor, RecordNode, ScalarNode, SchemaNode, UnionNode } from './schema-tree.js';

/**
 * Turns a schema tree into appliers: closures that copy only the records, arrays and maps on the way to a
 * leaf that needs work, and run the leaf's operator. Subtrees without work are shared with the input
 * untouched (never mutated). Built once per plan; nothing here runs per record except the closures.
 */

type Hooks = Decided;

export function buildApplier(node: SchemaNode, ctx: LeafContext, hooks: Hooks, scope: RecordNode | undefined, entersScope: boolean): Applier | undefined {
  switch (node.kind) {
    case 'scalar': {
      if (node.scalar === 'null') return undefined;
      const work = hooks.get(node);
      return work === undefined ? undefined : leafApplier(work, node);
    }
    case 'record':
      return recordApplier(node, ctx, hooks, entersScope ? node : scope, entersScope);
    case 'array': {
      const items = buildApplier(node.items, itemContext(ctx, ARRAY_TOKEN), hooks, scope, false);
      return items === undefined ? undefined : arrayApplier(items, ctx.path);
    }
    case 'map': {
      const values = buildApplier(node.values, itemContext(ctx, MAP_TOKEN), hooks, scope, false);
      return values === undefined ? undefined : mapApplier(values, ctx.path);
    }
    case 'union':
      return unionApplier(node, ctx, hooks, scope, entersScope);
  }
}

function shapeError(path: string, expected: string): MaskerError {
  return new MaskerError('MASKER_RECORD_SHAPE', `${displayPath(path)}: value does not match the schema (expected ${expected})`);
}

const leafApplier = leafOperator;

function recordApplier(node: RecordNode, ctx: LeafContext, hooks: Hooks, scope: RecordNode | undefined, entersScope: boolean): Applier | undefined {
  const names: string[] = [];
  const appliers: Applier[] = [];
  for (const field of node.fields) {
    const applier = buildApplier(field.node, childContext(ctx, field.name, field.tags), hooks, scope, false);
    if (applier !== undefined) {
      names.push(field.name);
      appliers.push(applier);
    }
  }
  if (names.length === 0) return undefined;
  const path = ctx.path;
  const build = recordBuilder(node.fields.map((f) => f.name), names, appliers, node.recordConstructor);
  return (value, rc: RecordContext) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) throw shapeError(path, `record ${node.typeName}`);
    if (entersScope) rc.enterRow(value);
    return build(value as Record<string, unknown>, rc);
  };
}

type RecordBuild = (source: Record<string, unknown>, ctx: RecordContext) => object;

/**
 * A generated function building the output record in one step — every schema field copied, fields with
 * work passed through their applier — as an instance of avsc's record class when there is one (the
 * shape avsc decodes and encodes fastest, with its methods), else as an object literal. Field names are
 * Avro names ([A-Za-z_][A-Za-z0-9_]*, checked again here) and go in as JSON strings.
 */
export function recordBuilder(
  allFields: readonly string[],
  worked: readonly string[],
  appliers: readonly Applier[],
  recordConstructor: RecordConstructor | undefined,
): RecordBuild {
  for (const name of allFields) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === '__proto__') {
      throw new MaskerError('MASKER_PLAN', `field name ${JSON.stringify(name)} is not supported (expected an Avro name other than __proto__)`);
    }
  }
  const values = allFields.map((name) => {
    const key = JSON.stringify(name);
    const i = worked.indexOf(name);
    return i < 0 ? `s[${key}]` : `a[${i}](s[${key}], c)`;
  });
  const body = recordConstructor === undefined
    ? `return { ${allFields.map((name, i) => `${JSON.stringify(name)}: ${values[i]!}`).join(', ')} };`
    : `return new R(${values.join(', ')});`;
  const factory = new Function('a', 'R', `return function build(s, c) { ${body} };`) as (a: readonly Applier[], r: RecordConstructor | undefined) => RecordBuild;
  return factory(appliers, recordConstructor);
}

function arrayApplier(items: Applier, path: string): Applier {
  return (value, ctx) => {
    if (!Array.isArray(value)) throw shapeError(path, 'array');
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = items(value[i], ctx);
    return out;
  };
}

function mapApplier(values: Applier, path: string): Applier {
  return (value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw shapeError(path, 'map');
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source)) {
      const masked = values(source[key], ctx);
      // A map key is data: "__proto__" must become an own entry, not the output's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: masked, enumerable: true, writable: true, configurable: true });
      else out[key] = masked;
    }
    return out;
  };
}

type Bucket = 'null' | 'boolean' | 'number' | 'string' | 'buffer' | 'array' | 'object';

function bucketOfNode(node: SchemaNode): Bucket {
  switch (node.kind) {
    case 'record':
    case 'map':
      return 'object';
    case 'array':
      return 'array';
    case 'union':
      return 'object';
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

function unionApplier(
  union: UnionNode,
  ctx: LeafContext,
  hooks: Hooks,
  scope: RecordNode | undefined,
  entersScope: boolean,
): Applier | undefined {
  const { wrapped, branches } = union;
  const scalars = branches.filter((b): b is ScalarNode => b.kind === 'scalar' && b.scalar !== 'null');
  const work = scalars.length > 0 ? hooks.get(union) : undefined;
  const byBranch = new Map<SchemaNode, Applier>();
  for (const branch of branches) {
    const applier = branch.kind === 'scalar'
      ? (work === undefined ? undefined : leafApplier(work, branch))
      : buildApplier(branch, ctx, hooks, scope, entersScope);
    if (applier !== undefined) byBranch.set(branch, applier);
  }
  if (byBranch.size === 0) return undefined;
  const path = ctx.path;
  if (wrapped) {
    const byName = new Map<string, Applier>();
    for (const [branch, applier] of byBranch) byName.set(branchNameOf(branch), applier);
    return (value, rc) => {
      if (value === null) return null;
      if (typeof value !== 'object') throw shapeError(path, 'a wrapped union value');
      const keys = Object.keys(value);
      const key = keys[0];
      if (keys.length !== 1 || key === undefined) throw shapeError(path, 'a wrapped union value');
      const applier = byName.get(key);
      if (applier === undefined) return value;
      const inner = applier((value as Record<string, unknown>)[key], rc);
      return inner === null ? null : { [key]: inner };
    };
  }
  const byBucket = new Map<Bucket, Applier>();
  for (const [branch, applier] of byBranch) byBucket.set(bucketOfNode(branch), applier);
  const onString = byBucket.get('string');
  const onNumber = byBucket.get('number');
  const onBoolean = byBucket.get('boolean');
  const onBuffer = byBucket.get('buffer');
  const onArray = byBucket.get('array');
  const onObject = byBucket.get('object');
  return (value, rc) => {
    let applier: Applier | undefined;
    switch (typeof value) {
      case 'string':
        applier = onString;
        break;
      case 'number':
        applier = onNumber;
        break;
      case 'boolean':
        applier = onBoolean;
        break;
      case 'object':
        if (value === null) return null;
        applier = Buffer.isBuffer(value) ? onBuffer : Array.isArray(value) ? onArray : onObject;
        break;
      default:
        throw shapeError(path, 'a value of one of the union branches');
    }
    return applier === undefined ? value : applier(value, rc);
  };
}

function branchNameOf(node: SchemaNode): string {
  return node.kind === 'union' ? 'union' : node.branchName;
}

/**
 * The whole-value applier: the schema root; with a Debezium envelope, each top-level field — the rows
 * (each its own scope for date-shift entity paths) and the envelope fields where tags or free text give
 * them work.
 */
export function buildRootApplier(root: SchemaNode, envelope: Envelope, hooks: Hooks): Applier | undefined {
  if (envelope === 'none') return buildApplier(root, ROOT_CONTEXT, hooks, undefined, true);
  const envelopeRecord = debeziumRoot(root);
  const names: string[] = [];
  const appliers: Applier[] = [];
  for (const field of envelopeRecord.fields) {
    const applier = buildApplier(field.node, debeziumFieldContext(field.name, field.tags), hooks, undefined, isDebeziumRow(field.name));
    if (applier !== undefined) {
      names.push(field.name);
      appliers.push(applier);
    }
  }
  if (names.length === 0) return undefined;
  const build = recordBuilder(envelopeRecord.fields.map((f) => f.name), names, appliers, envelopeRecord.recordConstructor);
  return (value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new MaskerError('MASKER_RECORD_SHAPE', 'value does not match the schema (expected a Debezium envelope record)');
    }
    return build(value as Record<string, unknown>, ctx);
  };
}
