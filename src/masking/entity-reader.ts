import { ARRAY_TOKEN, MAP_TOKEN, pathTokens } from './path-glob.js';
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
 * A reader of the entity value from a decoded row, or why the path cannot be read (a plan error message).
 * The byte path reads the same value from the row's bytes (transcode.ts).
 */
export function entityReader(scope: RecordNode | undefined, entityPath: string | undefined): ((row: unknown) => unknown) | string {
  if (entityPath === undefined) return () => '';
  const resolved = resolveEntityPath(scope, entityPath);
  if (typeof resolved === 'string') return resolved;
  // A wrapped union value (`{"Branch": value}`) is unwrapped after reading.
  const steps = resolved.hops.map((hop) => ({ name: hop.field.name, unwrapAfter: hop.field.node.kind === 'union' && hop.field.node.wrapped }));
  return (row) => {
    let current: unknown = row;
    for (const step of steps) {
      if (typeof current !== 'object' || current === null) return null;
      current = (current as Record<string, unknown>)[step.name];
      if (step.unwrapAfter && typeof current === 'object' && current !== null && !Buffer.isBuffer(current)) {
        const key = Object.keys(current)[0];
        current = key === undefined ? null : (current as Record<string, unknown>)[key];
      }
    }
    return current ?? null;
  };
}

function onlyRecordBranch(node: UnionNode): RecordNode | undefined {
  const records = node.branches.filter((b): b is RecordNode => b.kind === 'record');
  return records.length === 1 ? records[0] : undefined;
}
