import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';

/**
 * The schema as the engine sees it: the avsc Type gives the runtime shape (union wrapping, resolved
 * names); the schema JSON gives what avsc drops — field attributes (`confluent:tags`) and logical types.
 * Both are walked together once, at plan time.
 */

export type ScalarKind = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string' | 'enum' | 'fixed';

export interface ScalarNode {
  readonly kind: 'scalar';
  readonly scalar: ScalarKind;
  readonly logicalType?: string;
  /** Full name of an enum / fixed type. */
  readonly typeName?: string;
  readonly symbols?: readonly string[];
  readonly enumDefault?: string;
  readonly size?: number;
  readonly precision?: number;
  readonly scale?: number;
  /** The key of this branch in a wrapped union value (`{"string": …}`). */
  readonly branchName: string;
}

export interface FieldNode {
  readonly name: string;
  readonly tags: readonly string[];
  readonly node: SchemaNode;
}

/** avsc's generated record class: `new Ctor(v0, v1, …)` takes field values in schema order. */
export type RecordConstructor = new (...values: unknown[]) => object;

export interface RecordNode {
  readonly kind: 'record';
  readonly typeName: string;
  readonly branchName: string;
  readonly fields: readonly FieldNode[];
  readonly recordConstructor: RecordConstructor | undefined;
}

export interface ArrayNode { readonly kind: 'array'; readonly branchName: string; readonly items: SchemaNode }
export interface MapNode { readonly kind: 'map'; readonly branchName: string; readonly values: SchemaNode }
export interface UnionNode { readonly kind: 'union'; readonly wrapped: boolean; readonly branches: readonly SchemaNode[] }

export type SchemaNode = ScalarNode | RecordNode | ArrayNode | MapNode | UnionNode;

const TAGS_ATTRIBUTE = 'confluent:tags';
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function planError(where: string, message: string): MaskerError {
  return new MaskerError('MASKER_PLAN', `schema${where === '' ? '' : ` at ${where}`}: ${message}`);
}

/** Index of named type definitions in the schema JSON, by full name. */
function indexNamedTypes(json: unknown, namespace: string, out: Map<string, JsonObject>): void {
  if (Array.isArray(json)) {
    for (const branch of json) indexNamedTypes(branch, namespace, out);
    return;
  }
  if (!isObject(json)) return;
  const type = json['type'];
  if (typeof type === 'string' && (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed')) {
    const name = typeof json['name'] === 'string' ? json['name'] : '';
    const ns = typeof json['namespace'] === 'string' ? json['namespace'] : namespace;
    const fullName = name.includes('.') || ns === '' ? name : `${ns}.${name}`;
    out.set(fullName, json);
    const innerNs = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : '';
    if (type !== 'enum' && type !== 'fixed' && Array.isArray(json['fields'])) {
      for (const field of json['fields']) if (isObject(field)) indexNamedTypes(field['type'], innerNs, out);
    }
    return;
  }
  if (type === 'array') indexNamedTypes(json['items'], namespace, out);
  else if (type === 'map') indexNamedTypes(json['values'], namespace, out);
  else if (isObject(type) || Array.isArray(type)) indexNamedTypes(type, namespace, out);
}

/** Tags of a field (`"confluent:tags": [..]`). A malformed attribute is a plan error: tags decide what is PII. */
function fieldTags(field: JsonObject, where: string): string[] {
  const raw = field[TAGS_ATTRIBUTE];
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((t): t is string => typeof t === 'string')) {
    throw planError(where, `"${TAGS_ATTRIBUTE}" must be an array of strings`);
  }
  return raw;
}

class TreeBuilder {
  private readonly named = new Map<string, JsonObject>();
  private readonly recordStack: string[] = [];

  constructor(json: unknown) {
    indexNamedTypes(json, '', this.named);
  }

  build(type: Type, json: unknown, where: string): SchemaNode {
    const typeName = type.typeName;
    if (typeof json === 'string' && !PRIMITIVES.has(json)) {
      const def = type.name === undefined ? undefined : this.named.get(type.name);
      if (def === undefined) throw planError(where, `schema JSON reference "${json}" does not resolve to the parsed type ${typeName}`);
      json = def;
    }
    if (isObject(json) && (isObject(json['type']) || Array.isArray(json['type']))) {
      return this.build(type, json['type'], where);
    }
    if (typeName.startsWith('logical:')) {
      throw planError(where, `logical type ${typeName.slice(8)} is decoded by a logical-type hook; the engine expects raw Avro values (parse the schema without logicalTypes)`);
    }
    switch (typeName) {
      case 'record':
      case 'error':
        return this.record(type, json, where);
      case 'array':
        return { kind: 'array', branchName: 'array', items: this.build((type as unknown as { itemsType: Type }).itemsType, isObject(json) ? json['items'] : undefined, `${where}[]`) };
      case 'map':
        return { kind: 'map', branchName: 'map', values: this.build((type as unknown as { valuesType: Type }).valuesType, isObject(json) ? json['values'] : undefined, `${where}{}`) };
      case 'union:wrapped':
      case 'union:unwrapped': {
        const branches = (type as unknown as { types: Type[] }).types;
        if (!Array.isArray(json) || json.length !== branches.length) throw planError(where, 'schema JSON union does not match the parsed type');
        return { kind: 'union', wrapped: typeName === 'union:wrapped', branches: branches.map((b, i) => this.build(b, json[i], where)) };
      }
      default:
        return this.scalar(type, json, where);
    }
  }

  private record(type: Type, json: unknown, where: string): RecordNode {
    const fullName = type.name ?? '';
    if (!isObject(json) || !Array.isArray(json['fields'])) throw planError(where, `schema JSON for record ${fullName} has no fields`);
    if (this.recordStack.includes(fullName)) {
      throw planError(where, `record ${fullName} is recursive; recursive schemas are not supported (fail closed)`);
    }
    const jsonFields = json['fields'] as unknown[];
    const typeFields = (type as unknown as { fields: { name: string; type: Type }[] }).fields;
    if (jsonFields.length !== typeFields.length) throw planError(where, `schema JSON for record ${fullName} does not match the parsed type`);
    this.recordStack.push(fullName);
    const fields = typeFields.map((f, i): FieldNode => {
      const jf = jsonFields[i];
      const fieldWhere = where === '' ? f.name : `${where}.${f.name}`;
      if (!isObject(jf) || jf['name'] !== f.name) throw planError(fieldWhere, 'schema JSON field does not match the parsed type');
      return { name: f.name, tags: fieldTags(jf, fieldWhere), node: this.build(f.type, jf['type'], fieldWhere) };
    });
    this.recordStack.pop();
    const ctor = (type as unknown as { recordConstructor?: unknown }).recordConstructor;
    const recordConstructor = typeof ctor === 'function' ? (ctor as RecordConstructor) : undefined;
    return { kind: 'record', typeName: fullName, branchName: fullName, fields, recordConstructor };
  }

  private scalar(type: Type, json: unknown, where: string): ScalarNode {
    const kind = type.typeName as ScalarKind;
    if (!['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'enum', 'fixed'].includes(kind)) {
      throw planError(where, `unsupported Avro type ${type.typeName}`);
    }
    const attrs = isObject(json) ? json : {};
    const logicalType = typeof attrs['logicalType'] === 'string' ? attrs['logicalType'] : undefined;
    const named = kind === 'enum' || kind === 'fixed';
    const node: ScalarNode = {
      kind: 'scalar',
      scalar: kind,
      branchName: named ? type.name ?? kind : kind,
      ...(logicalType === undefined ? {} : { logicalType }),
      ...(named && type.name !== undefined ? { typeName: type.name } : {}),
      ...(kind === 'enum' ? { symbols: (type as unknown as { symbols: string[] }).symbols } : {}),
      ...(kind === 'enum' && typeof attrs['default'] === 'string' ? { enumDefault: attrs['default'] } : {}),
      ...(kind === 'fixed' ? { size: (type as unknown as { size: number }).size } : {}),
      ...(typeof attrs['precision'] === 'number' ? { precision: attrs['precision'] } : {}),
      ...(typeof attrs['scale'] === 'number' ? { scale: attrs['scale'] } : {}),
    };
    return node;
  }
}

/** Builds the schema tree; throws MaskerError('MASKER_PLAN') when the JSON and the Type disagree. */
export function buildSchemaTree(type: Type, schemaJson: unknown): SchemaNode {
  const json = typeof schemaJson === 'string' ? parseJsonText(schemaJson) : schemaJson;
  return new TreeBuilder(json).build(type, json, '');
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A bare primitive name such as "long" is valid schema text too.
    return text;
  }
}

/** The Avro type name of a scalar as rules see it: its logical type if any, else its Avro type. */
export function scalarTypeNames(node: ScalarNode): string[] {
  const names: string[] = [node.scalar];
  if (node.logicalType !== undefined) names.push(node.logicalType);
  return names;
}

export function describeScalar(node: ScalarNode): string {
  const base = node.typeName !== undefined ? `${node.scalar} ${node.typeName}` : node.scalar;
  return node.logicalType === undefined ? base : `${base} (logicalType ${node.logicalType})`;
}

/**
 * Turns an avsc validation path (field names, array indexes, map keys, wrapped-union branch names) into a
 * field path that cannot carry data: indexes become `[]`, map keys `{}`, branch names are dropped.
 */
export function schemaPathOf(root: SchemaNode, segments: readonly string[]): string {
  let nodes: readonly SchemaNode[] = [root];
  let out = '';
  for (const segment of segments) {
    const expanded = nodes.flatMap((n) => (n.kind === 'union' ? n.branches : [n]));
    const field = expanded.flatMap((n) => (n.kind === 'record' ? n.fields : [])).find((f) => f.name === segment);
    if (field !== undefined) {
      out = out === '' ? segment : `${out}.${segment}`;
      nodes = [field.node];
      continue;
    }
    const branch = expanded.find((n) => n.kind !== 'union' && n.branchName === segment);
    if (branch !== undefined) {
      nodes = [branch];
      continue;
    }
    const container = expanded.find((n): n is ArrayNode | MapNode => n.kind === 'array' || n.kind === 'map');
    if (container === undefined) return `${out === '' ? '$' : out}…`;
    out += container.kind === 'array' ? '[]' : '{}';
    nodes = [container.kind === 'array' ? container.items : container.values];
  }
  return out === '' ? '$' : out;
}
