import { Cursor, readIndex, scalarDecoder, skipper } from './avro-bytes.js';
import { ARRAY_TOKEN, joinPath, MAP_TOKEN, pathTokens } from './path-glob.js';
import type { RowRef } from './record-context.js';
import type { FieldNode, RecordNode, SchemaNode, UnionNode } from './schema-tree.js';

/** One field on the way to a date-shift entity: the record it is read from (a union's record branch). */
export interface EntityHop {
  readonly record: RecordNode;
  readonly field: FieldNode;
  readonly index: number;
}

/** A resolved `entityPath`: the fields from the row record to the entity, and the entity's (scalar) node. */
export interface EntityPath {
  readonly hops: readonly EntityHop[];
  readonly leaf: SchemaNode;
}

/**
 * Resolves a date-shift `entityPath` (field names from the row / root record, no arrays or maps), or
 * returns why it cannot (a plan error message).
 */
export function resolveEntityPath(scope: RecordNode | undefined, entityPath: string): EntityPath | string {
  if (scope === undefined) return `entityPath ${entityPath} needs a record schema`;
  const tokens = pathTokens(entityPath);
  if (tokens.includes(ARRAY_TOKEN) || tokens.includes(MAP_TOKEN)) return `entityPath ${entityPath} must not go through arrays or maps`;
  const hops: EntityHop[] = [];
  let node: SchemaNode = scope;
  for (const name of tokens) {
    const record: RecordNode | undefined = node.kind === 'record' ? node : node.kind === 'union' ? onlyRecordBranch(node) : undefined;
    if (record === undefined) return `entityPath ${entityPath}: "${name}" is not inside a record`;
    const index: number = record.fields.findIndex((f) => f.name === name);
    const field: FieldNode | undefined = record.fields[index];
    if (field === undefined) return `entityPath ${entityPath}: no field "${name}" in record ${record.typeName}`;
    hops.push({ record, field, index });
    node = field.node;
  }
  const leafOk = node.kind === 'scalar' || (node.kind === 'union' && node.branches.every((b) => b.kind === 'scalar'));
  if (!leafOk) return `entityPath ${entityPath} must name a scalar field (string, number, bytes, …)`;
  return { hops, leaf: node };
}

/**
 * A reader of the date-shift entity from a row's bytes, or why the path cannot be read (a plan error
 * message). It walks the row record from its start: skips the fields before each hop, follows a union on
 * the way only into the hop's record (any other branch: no entity, null), and decodes the entity as avsc
 * decodes it (a string, a number, a Buffer, …; null when it is null). Without an entity path the entity
 * is `''` (one shift for the whole domain).
 */
export function entityReader(scope: RecordNode | undefined, entityPath: string | undefined): ((row: RowRef) => unknown) | string {
  if (entityPath === undefined) return () => '';
  const resolved = resolveEntityPath(scope, entityPath);
  if (typeof resolved === 'string') return resolved;
  let where = '';
  const hops = resolved.hops.map((hop) => {
    const before = hop.record.fields.slice(0, hop.index).map((f) => skipper(f.node, joinPath(where, f.name)));
    where = joinPath(where, hop.field.name);
    return { record: hop.record, before, next: hop.field.node };
  });
  const leaf = resolved.leaf;
  const leafWhere = where;
  const decoders = (leaf.kind === 'union' ? leaf.branches : [leaf]).map((n) => (n.kind === 'scalar' ? scalarDecoder(n, leafWhere) : () => null));
  const start: SchemaNode | undefined = scope;
  return (row) => {
    const c = new Cursor(row.buf, row.pos, row.end);
    let at: SchemaNode | undefined = start;
    for (const hop of hops) {
      // A union on the way holds the record or something else (null, another branch): then no entity.
      if (at?.kind === 'union' && at.branches[readIndex(c, '', at.branches.length, 'union')] !== hop.record) return null;
      for (const skip of hop.before) skip(c);
      at = hop.next;
    }
    const value = decoders.length === 1 && leaf.kind !== 'union' ? decoders[0]!(c) : decoders[readIndex(c, leafWhere, decoders.length, 'union')]!(c);
    return value ?? null;
  };
}

function onlyRecordBranch(node: UnionNode): RecordNode | undefined {
  const records = node.branches.filter((b): b is RecordNode => b.kind === 'record');
  return records.length === 1 ? records[0] : undefined;
}
