import { MaskerError } from '../errors.js';
import type { ScalarOp } from './actions/action-types.js';
import { UntaggedPiiError } from './actions/detect-untagged.js';
import type { Leaf, LeafContext } from './discovery.js';
import { childContext, itemContext, makeLeaf } from './discovery.js';
import { ARRAY_TOKEN, displayPath, MAP_TOKEN } from './path-glob.js';
import type { Applier, RecordContext } from './record-context.js';
import type { RecordConstructor, RecordNode, ScalarNode, SchemaNode, UnionNode } from './schema-tree.js';

/**
 * Turns a schema tree into appliers: closures that copy only the records, arrays and maps on the way to a
 * leaf that needs work, and run the leaf's operator. Subtrees without work are shared with the input
 * untouched (never mutated). Built once per plan; nothing here runs per record except the closures.
 */

/** What the plan decided for one leaf: the operator per scalar branch and the decision to record. */
export interface LeafWork {
  /** The decision recorded as applied when the leaf holds a value; undefined for the safety net's scan. */
  readonly decisionIndex: number | undefined;
  /**
   * The operator returns its input unless a detector finds PII (the safety net on unmasked strings): the
   * byte path may skip a string whose bytes hold no digit, `@` or `:` without decoding it.
   */
  readonly scanOnly?: true;
  /** `after.email (rule emails)`: names the failing field in MASKER_ACTION errors, never the value. */
  readonly label: string;
  /**
   * `cacheSlot`: last-result slot of a costly string operator (shared by equal operators); `constant`:
   * the operator ignores its input.
   */
  readonly ops: ReadonlyMap<ScalarNode, { readonly op: ScalarOp; readonly cacheSlot: number | undefined; readonly constant: boolean }>;
}

export interface BuilderHooks {
  /** Decides a leaf; undefined means the leaf passes through without a decision. */
  leaf(leaf: Leaf, scope: RecordNode | undefined): LeafWork | undefined;
  /** Filled by the builder: the work decided for a scalar or union node (the byte transcoder reads it). */
  readonly decided: Map<SchemaNode, LeafWork>;
}

function decide(hooks: BuilderHooks, node: SchemaNode, leaf: Leaf, scope: RecordNode | undefined): LeafWork | undefined {
  const work = hooks.leaf(leaf, scope);
  if (work !== undefined) hooks.decided.set(node, work);
  return work;
}

export function buildApplier(node: SchemaNode, ctx: LeafContext, hooks: BuilderHooks, scope: RecordNode | undefined, entersScope: boolean): Applier | undefined {
  switch (node.kind) {
    case 'scalar': {
      if (node.scalar === 'null') return undefined;
      const work = decide(hooks, node, makeLeaf(ctx, [node], false), scope);
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

function actionError(label: string, err: unknown): MaskerError {
  // The safety net's finding already names its field, and carries it as data for the audit.
  if (err instanceof UntaggedPiiError) return err;
  if (err instanceof MaskerError) return new MaskerError(err.code === 'MASKER_RECORD_SHAPE' ? err.code : 'MASKER_ACTION', `${label}: ${err.message}`);
  const kind = err instanceof Error ? err.name : typeof err;
  return new MaskerError('MASKER_ACTION', `${label}: the action failed (${kind})`);
}

/**
 * The operator of one scalar branch of a decided leaf, wrapped with what every use needs: the decision
 * recorded as applied, the last-result cache, errors named by field and rule (never by value).
 */
export function leafApplier(work: LeafWork, scalar: ScalarNode): Applier | undefined {
  const entry = work.ops.get(scalar);
  if (entry === undefined) return undefined;
  const { op, cacheSlot } = entry;
  const index = work.decisionIndex;
  const label = work.label;
  if (index === undefined) {
    return (value, ctx) => {
      try {
        return op(value, ctx);
      } catch (err) {
        throw actionError(label, err);
      }
    };
  }
  if (cacheSlot === undefined) {
    return (value, ctx) => {
      ctx.applied[index] = 1;
      try {
        return op(value, ctx);
      } catch (err) {
        throw actionError(label, err);
      }
    };
  }
  return (value, ctx) => {
    ctx.applied[index] = 1;
    try {
      const state = ctx.keyState;
      if (state.lastInput[cacheSlot] === value) return state.lastOutput[cacheSlot];
      const result = op(value, ctx);
      state.lastInput[cacheSlot] = value;
      state.lastOutput[cacheSlot] = result;
      return result;
    } catch (err) {
      throw actionError(label, err);
    }
  };
}

function recordApplier(node: RecordNode, ctx: LeafContext, hooks: BuilderHooks, scope: RecordNode | undefined, entersScope: boolean): Applier | undefined {
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
  hooks: BuilderHooks,
  scope: RecordNode | undefined,
  entersScope: boolean,
): Applier | undefined {
  const { wrapped, branches } = union;
  const scalars = branches.filter((b): b is ScalarNode => b.kind === 'scalar' && b.scalar !== 'null');
  const nullable = branches.some((b) => b.kind === 'scalar' && b.scalar === 'null');
  const work = scalars.length > 0 ? decide(hooks, union, makeLeaf(ctx, scalars, nullable), scope) : undefined;
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
