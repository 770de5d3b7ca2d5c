import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import { ARRAY_TOKEN, displayPath, isNameToken, joinPath, MAP_TOKEN } from './path-glob.js';
import type { RecordNode, ScalarNode, SchemaNode } from './schema-tree.js';
import { buildSchemaTree, describeScalar } from './schema-tree.js';

export type Envelope = 'debezium' | 'none';

/**
 * The Debezium envelope fields that hold rows. Every other top-level field is envelope metadata: masked
 * only where tags make it sensitive, or when it is known free text (below).
 */
export const DEBEZIUM_ROW_FIELDS = ['before', 'after'] as const;

/**
 * Envelope fields known to carry free text full of row values: Debezium's `source.query` (the SQL
 * statement, present when the connector sets `include.query`). Untagged, they get `envelope.freeText`.
 */
export const FREE_TEXT_ENVELOPE_PATHS: readonly string[] = ['source.query'];

/** A leaf position of the schema: where scalar values live. */
export interface Leaf {
  /** Full dotted path (`after.address.street`, `phones[]`); `''` for the root of a scalar schema. */
  readonly path: string;
  /** Path rules match against: relative to the row for Debezium row leaves, else equal to `path`. */
  readonly matchPath: string;
  readonly matchTokens: readonly string[];
  /** Own field name (last field name on the path), or undefined for a root scalar. */
  readonly name: string | undefined;
  /** Tags of the field and of every enclosing field. */
  readonly tags: readonly string[];
  /** True when the leaf is a union with a `null` branch. */
  readonly nullable: boolean;
  /** The non-null scalar types the value can take. */
  readonly scalars: readonly ScalarNode[];
  /**
   * True for Debezium envelope metadata (`op`, `source.*`, `ts_ms`, `transaction.*`, …): rules apply to
   * it only when it is sensitive (tagged); else it passes through, unless it is free text.
   */
  readonly envelope: boolean;
  /** A known free-text envelope field (`source.query`) holding a plain string (nullable or not). */
  readonly freeText: boolean;
}

export interface LeafContext {
  readonly path: string;
  readonly matchPath: string;
  readonly matchTokens: readonly string[];
  readonly tags: readonly string[];
  /** Inside a Debezium envelope field other than the rows. */
  readonly envelope: boolean;
}

export const ROOT_CONTEXT: LeafContext = { path: '', matchPath: '', matchTokens: [], tags: [], envelope: false };

export function childContext(ctx: LeafContext, fieldName: string, fieldTags: readonly string[]): LeafContext {
  return {
    path: joinPath(ctx.path, fieldName),
    matchPath: joinPath(ctx.matchPath, fieldName),
    matchTokens: [...ctx.matchTokens, fieldName],
    tags: fieldTags.length === 0 ? ctx.tags : [...new Set([...ctx.tags, ...fieldTags])],
    envelope: ctx.envelope,
  };
}

export function itemContext(ctx: LeafContext, token: typeof ARRAY_TOKEN | typeof MAP_TOKEN): LeafContext {
  return {
    ...ctx,
    path: `${ctx.path}${token}`,
    matchPath: `${ctx.matchPath}${token}`,
    matchTokens: [...ctx.matchTokens, token],
  };
}

/** The row context of a Debezium envelope field: full path `after`, match path relative to the row. */
export function rowContext(fieldName: string, fieldTags: readonly string[]): LeafContext {
  return { path: fieldName, matchPath: '', matchTokens: [], tags: fieldTags, envelope: false };
}

/** The context of a Debezium envelope field other than the rows: rules see its full path. */
export function envelopeContext(fieldName: string, fieldTags: readonly string[]): LeafContext {
  return { ...childContext(ROOT_CONTEXT, fieldName, fieldTags), envelope: true };
}

/** The context of a top-level field of a Debezium envelope: a row, or envelope metadata. */
export function debeziumFieldContext(fieldName: string, fieldTags: readonly string[]): LeafContext {
  return isDebeziumRow(fieldName) ? rowContext(fieldName, fieldTags) : envelopeContext(fieldName, fieldTags);
}

export function isDebeziumRow(fieldName: string): boolean {
  return (DEBEZIUM_ROW_FIELDS as readonly string[]).includes(fieldName);
}

export function makeLeaf(ctx: LeafContext, scalars: readonly ScalarNode[], nullable: boolean): Leaf {
  const name = [...ctx.matchTokens].reverse().find(isNameToken);
  const only = scalars.length === 1 ? scalars[0] : undefined;
  const freeText = ctx.envelope && FREE_TEXT_ENVELOPE_PATHS.includes(ctx.path)
    && only?.scalar === 'string' && only.logicalType === undefined;
  return { path: ctx.path, matchPath: ctx.matchPath, matchTokens: ctx.matchTokens, name, tags: ctx.tags, nullable, scalars, envelope: ctx.envelope, freeText };
}

/** The Debezium row record, or a plan error naming what is missing. */
export function debeziumRoot(root: SchemaNode): RecordNode {
  if (root.kind !== 'record') throw new MaskerError('MASKER_PLAN', 'envelope debezium: expected a record schema with before/after fields');
  for (const name of DEBEZIUM_ROW_FIELDS) {
    const field = root.fields.find((f) => f.name === name);
    const rowRecord = field === undefined ? undefined : field.node.kind === 'record' ? field.node : field.node.kind === 'union' ? field.node.branches.find((b) => b.kind === 'record') : undefined;
    if (rowRecord === undefined) {
      throw new MaskerError('MASKER_PLAN', `envelope debezium: expected field "${name}" holding the row record (["null", Row]); use envelope none for other schemas`);
    }
  }
  return root;
}

/** Walks a subtree, calling `visit` for every leaf position. */
export function walkLeaves(node: SchemaNode, ctx: LeafContext, visit: (leaf: Leaf) => void): void {
  switch (node.kind) {
    case 'scalar':
      if (node.scalar !== 'null') visit(makeLeaf(ctx, [node], false));
      return;
    case 'record':
      for (const f of node.fields) walkLeaves(f.node, childContext(ctx, f.name, f.tags), visit);
      return;
    case 'array':
      walkLeaves(node.items, itemContext(ctx, ARRAY_TOKEN), visit);
      return;
    case 'map':
      walkLeaves(node.values, itemContext(ctx, MAP_TOKEN), visit);
      return;
    case 'union': {
      const scalars = node.branches.filter((b): b is ScalarNode => b.kind === 'scalar' && b.scalar !== 'null');
      const nullable = node.branches.some((b) => b.kind === 'scalar' && b.scalar === 'null');
      if (scalars.length > 0) visit(makeLeaf(ctx, scalars, nullable));
      for (const b of node.branches) if (b.kind !== 'scalar') walkLeaves(b, ctx, visit);
    }
  }
}

/** Every leaf of a schema tree; with envelope `debezium`, leaves outside `before`/`after` are `envelope`. */
export function listLeaves(root: SchemaNode, envelope: Envelope): Leaf[] {
  const leaves: Leaf[] = [];
  const push = (leaf: Leaf): void => void leaves.push(leaf);
  if (envelope === 'none') {
    walkLeaves(root, ROOT_CONTEXT, push);
    return leaves;
  }
  for (const field of debeziumRoot(root).fields) walkLeaves(field.node, debeziumFieldContext(field.name, field.tags), push);
  return leaves;
}

/** One leaf as `discoverFields` reports it. */
export interface DiscoveredField {
  readonly path: string;
  /** Non-null Avro type(s) of the value, `|`-joined for multi-branch unions (e.g. `string|long`). */
  readonly type: string;
  readonly logicalType?: string;
  readonly tags: readonly string[];
  readonly nullable: boolean;
  /**
   * False for Debezium envelope metadata (outside `before`/`after`): rules never touch it unless it is
   * tagged (sensitive), and known free text (`source.query`) gets `envelope.freeText`.
   */
  readonly maskable: boolean;
  /** A known free-text envelope field (`source.query`): scrubbed by default unless tags cover it. */
  readonly freeText: boolean;
  /** Human description, e.g. `int (logicalType date)`. */
  readonly description: string;
}

export interface DiscoverOptions {
  /** The schema JSON (tags and logical types live only there; avsc drops them). */
  readonly schemaJson: unknown;
  readonly envelope?: Envelope;
}

/** Lists the leaves of a schema with their tags, for `policy validate`, docs and tests. */
export function discoverFields(schema: Type, options: DiscoverOptions): DiscoveredField[] {
  const root = buildSchemaTree(schema, options.schemaJson);
  return listLeaves(root, options.envelope ?? 'none').map((leaf) => {
    const logical = leaf.scalars.length === 1 ? leaf.scalars[0]?.logicalType : undefined;
    return {
      path: displayPath(leaf.path),
      type: leaf.scalars.map((s) => s.scalar).join('|'),
      ...(logical === undefined ? {} : { logicalType: logical }),
      tags: leaf.tags,
      nullable: leaf.nullable,
      maskable: !leaf.envelope,
      freeText: leaf.freeText,
      description: leaf.scalars.map(describeScalar).join(' | '),
    };
  });
}
