import { MaskerError } from '../errors.js';
import type { Envelope, Leaf, LeafContext } from './discovery.js';
import { childContext, debeziumFieldContext, debeziumRoot, isDebeziumRow, itemContext, makeLeaf, ROOT_CONTEXT } from './discovery.js';
import type { LeafWork } from './leaf-operator.js';
import { ARRAY_TOKEN, MAP_TOKEN } from './path-glob.js';
import type { RecordNode, ScalarNode, SchemaNode } from './schema-tree.js';

/**
 * Decides one leaf: its work, or undefined when it passes through without a decision. `scope` is the row
 * record date-shift entity paths are relative to (undefined outside any row).
 */
export type DecideLeaf = (leaf: Leaf, scope: RecordNode | undefined) => LeafWork | undefined;

/** The work decided per leaf node: a scalar node, or a union node for a union leaf (its scalar branches). */
export type Decided = ReadonlyMap<SchemaNode, LeafWork>;

/**
 * Walks the schema tree once, in schema order, and asks `decide` about every leaf with its context (full
 * path, match path, tags, envelope) and scope. With envelope `none` the root is the row (a record root, or
 * each record branch of a root union, enters the scope); with `debezium` the top-level fields are walked
 * with Debezium field contexts, and `before` / `after` (a record or a union's record branches) are rows.
 * Returns what was decided; nodes without work are absent. The order of the `decide` calls is the order
 * of the plan's decisions.
 */
export function walkPlan(root: SchemaNode, envelope: Envelope, decide: DecideLeaf): Map<SchemaNode, LeafWork> {
  const decided = new Map<SchemaNode, LeafWork>();
  const leaf = (node: SchemaNode, at: Leaf, scope: RecordNode | undefined): void => {
    const work = decide(at, scope);
    if (work !== undefined) decided.set(node, work);
  };
  const visit = (node: SchemaNode, ctx: LeafContext, scope: RecordNode | undefined, entersScope: boolean): void => {
    switch (node.kind) {
      case 'scalar':
        if (node.scalar !== 'null') leaf(node, makeLeaf(ctx, [node], false), scope);
        return;
      case 'record': {
        const inner = entersScope ? node : scope;
        const before = decided.size;
        for (const field of node.fields) visit(field.node, childContext(ctx, field.name, field.tags), inner, false);
        if (decided.size > before) checkFieldNames(node);
        return;
      }
      case 'array':
        visit(node.items, itemContext(ctx, ARRAY_TOKEN), scope, false);
        return;
      case 'map':
        visit(node.values, itemContext(ctx, MAP_TOKEN), scope, false);
        return;
      case 'union': {
        // The scalar branches are one leaf (decided on the union node), then the complex branches.
        const scalars = node.branches.filter((b): b is ScalarNode => b.kind === 'scalar' && b.scalar !== 'null');
        const nullable = node.branches.some((b) => b.kind === 'scalar' && b.scalar === 'null');
        if (scalars.length > 0) leaf(node, makeLeaf(ctx, scalars, nullable), scope);
        for (const branch of node.branches) if (branch.kind !== 'scalar') visit(branch, ctx, scope, entersScope);
      }
    }
  };
  if (envelope === 'none') {
    visit(root, ROOT_CONTEXT, undefined, true);
  } else {
    const envelopeRecord = debeziumRoot(root);
    for (const field of envelopeRecord.fields) visit(field.node, debeziumFieldContext(field.name, field.tags), undefined, isDebeziumRow(field.name));
    if (decided.size > 0) checkFieldNames(envelopeRecord);
  }
  return decided;
}

/**
 * A record on the way to masked leaves must have field names that are plain Avro names other than
 * `__proto__`: decoded (`maskRecord`), such a field would set the record object's prototype instead of
 * holding its value. A plan error (MASKER_PLAN), thrown as soon as the record's fields are decided.
 */
function checkFieldNames(node: RecordNode): void {
  for (const { name } of node.fields) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === '__proto__') {
      throw new MaskerError('MASKER_PLAN', `field name ${JSON.stringify(name)} is not supported (expected an Avro name other than __proto__)`);
    }
  }
}
