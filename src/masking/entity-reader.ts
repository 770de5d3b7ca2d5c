import { ARRAY_TOKEN, MAP_TOKEN, pathTokens } from './path-glob.js';
import type { FieldNode, RecordNode, SchemaNode } from './schema-tree.js';

interface Step {
  readonly name: string;
  /** The value at this step is a wrapped union (`{"Branch": value}`) to unwrap after reading. */
  readonly unwrapAfter: boolean;
}

/**
 * Resolves a date-shift `entityPath` (field names from the row / root record, no arrays or maps) to a
 * reader of the entity value, or returns why it cannot (a plan error message).
 */
export function entityReader(scope: RecordNode | undefined, entityPath: string | undefined): ((row: unknown) => unknown) | string {
  if (entityPath === undefined) return () => '';
  if (scope === undefined) return `entityPath ${entityPath} needs a record schema`;
  const tokens = pathTokens(entityPath);
  if (tokens.includes(ARRAY_TOKEN) || tokens.includes(MAP_TOKEN)) return `entityPath ${entityPath} must not go through arrays or maps`;
  const steps: Step[] = [];
  let node: SchemaNode = scope;
  for (const name of tokens) {
    const record: RecordNode | undefined = node.kind === 'record' ? node : node.kind === 'union' ? onlyRecordBranch(node.branches) : undefined;
    if (record === undefined) return `entityPath ${entityPath}: "${name}" is not inside a record`;
    const field: FieldNode | undefined = record.fields.find((f) => f.name === name);
    if (field === undefined) return `entityPath ${entityPath}: no field "${name}" in record ${record.typeName}`;
    node = field.node;
    steps.push({ name, unwrapAfter: node.kind === 'union' && node.wrapped });
  }
  const leafOk = node.kind === 'scalar' || (node.kind === 'union' && node.branches.every((b) => b.kind === 'scalar'));
  if (!leafOk) return `entityPath ${entityPath} must name a scalar field (string, number, bytes, …)`;
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

function onlyRecordBranch(branches: readonly SchemaNode[]): RecordNode | undefined {
  const records = branches.filter((b): b is RecordNode => b.kind === 'record');
  return records.length === 1 ? records[0] : undefined;
}
