import { MaskerError } from '../errors.js';
import { compileFieldPathGlob, type FieldPathGlob } from './field-path-glob.js';

/**
 * Registry-level data-contract tags: a registered schema version may carry
 * `metadata: { tags: { "<path glob>": ["PII", "EMAIL"] }, properties: {...} }`. A key is a glob over
 * fully-qualified field names — the enclosing record's full name (namespace included), a dot, the field
 * name: `com.acme.Customer.email`, `**.email`, `com.acme.*.ssn` (see field-path-glob.ts). This is how
 * Confluent's serdes apply them: a nested record's field is named after *its* record, not the path from the
 * root (`com.acme.Address.street`, not `Customer.address.street`).
 *
 * masker merges them into the fields' `confluent:tags` of the schema JSON the plan compiler is given (union,
 * inline tags kept), so the engine has one source of tags.
 */

/** Path glob → tags, sorted, for one schema id (the union over its subject-versions). Empty: none. */
export type MetadataTags = ReadonlyMap<string, readonly string[]>;

export const NO_METADATA_TAGS: MetadataTags = new Map();

const TAGS_ATTRIBUTE = 'confluent:tags';

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a JSON value is, for error messages (never the value itself). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * The tags of one registry answer's `metadata` (absent or without `tags`: none). Anything that is not an
 * object of string arrays keyed by valid path globs fails closed with MASKER_DECODE (quarantine): a tag the
 * registry holds but masker cannot read could be the one that marks a field as PII. `where` names the
 * schema id and the subject/version; messages name the key at fault, never a record value.
 */
export function parseMetadataTags(metadata: unknown, where: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (metadata === undefined || metadata === null) return out;
  if (!isObject(metadata)) throw invalid(where, `"metadata" must be an object, found ${kindOf(metadata)}`);
  const tags = metadata['tags'];
  if (tags === undefined || tags === null) return out;
  if (!isObject(tags)) throw invalid(where, `metadata.tags must be an object of string arrays (path glob → tags), found ${kindOf(tags)}`);
  for (const [key, value] of Object.entries(tags)) {
    const at = `metadata.tags[${JSON.stringify(key)}]`;
    if (!Array.isArray(value)) throw invalid(where, `${at} must be an array of strings, found ${kindOf(value)}`);
    value.forEach((tag: unknown, i) => {
      if (typeof tag !== 'string') throw invalid(where, `${at}[${i}] must be a string, found ${kindOf(tag)}`);
    });
    if (key === '' || compileFieldPathGlob(key) === undefined) throw invalid(where, `${at}: the key is not a valid field path glob`);
    out.set(key, value as string[]);
  }
  return out;
}

function invalid(where: string, message: string): MaskerError {
  return new MaskerError('MASKER_DECODE', `${where}: registry data-contract metadata is invalid: ${message}`);
}

/** The union of several answers' tags (same key: union of tags), keys and tags sorted, duplicates dropped. */
export function unionMetadataTags(parts: Iterable<ReadonlyMap<string, readonly string[]>>): MetadataTags {
  const merged = new Map<string, Set<string>>();
  for (const part of parts) {
    for (const [key, tags] of part) {
      let set = merged.get(key);
      if (set === undefined) merged.set(key, (set = new Set()));
      for (const tag of tags) set.add(tag);
    }
  }
  return new Map([...merged.keys()].sort().map((key) => [key, [...(merged.get(key) ?? [])].sort()]));
}

/** The registry's JSON shape (`metadata.tags`) of a tag map. */
export function metadataTagsJson(tags: MetadataTags): Record<string, string[]> {
  return Object.fromEntries([...tags].map(([key, value]) => [key, [...value]]));
}

export interface MergedSchemaJson {
  /** A copy of the schema JSON with the matching tags added to each field's `confluent:tags`. */
  readonly json: unknown;
  /** Keys that matched no field of this schema (ignored: logged at debug by the caller). */
  readonly unmatched: readonly string[];
}

/**
 * Merges metadata tags into the fields' `confluent:tags` of a copy of `schemaJson`: existing tags first,
 * then the added ones (sorted, no duplicates). A field whose `confluent:tags` is malformed is left as it
 * is, so the plan compiler still reports it (plan error, fail closed). A named record defined once and
 * referenced by name elsewhere is tagged at its definition, which is what every reference resolves to.
 */
export function mergeMetadataTags(schemaJson: unknown, tags: MetadataTags): MergedSchemaJson {
  const json: unknown = structuredClone(schemaJson);
  if (tags.size === 0) return { json, unmatched: [] };
  const globs: { key: string; glob: FieldPathGlob; tags: readonly string[] }[] = [];
  for (const [key, value] of tags) {
    const glob = compileFieldPathGlob(key);
    if (glob !== undefined) globs.push({ key, glob, tags: value });
  }
  const matched = new Set<string>();
  const visited = new Set<string>();

  const visit = (schema: unknown, namespace: string): void => {
    if (Array.isArray(schema)) {
      for (const branch of schema) visit(branch, namespace);
      return;
    }
    if (!isObject(schema)) return; // a primitive or a reference to a named type defined elsewhere
    const type = schema['type'];
    if (type === 'record' || type === 'error') {
      const fullName = fullNameOf(schema, namespace);
      if (visited.has(fullName)) return;
      visited.add(fullName);
      const innerNamespace = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : '';
      const fields = schema['fields'];
      if (!Array.isArray(fields)) return;
      for (const field of fields) {
        if (!isObject(field) || typeof field['name'] !== 'string') continue;
        const path = `${fullName}.${field['name']}`;
        const added = new Set<string>();
        for (const g of globs) {
          if (!g.glob(path)) continue;
          matched.add(g.key);
          for (const tag of g.tags) added.add(tag);
        }
        if (added.size > 0) addTags(field, added);
        visit(field['type'], innerNamespace);
      }
    } else if (type === 'array') {
      visit(schema['items'], namespace);
    } else if (type === 'map') {
      visit(schema['values'], namespace);
    } else if (isObject(type) || Array.isArray(type)) {
      visit(type, namespace);
    }
  };
  visit(json, '');
  return { json, unmatched: [...tags.keys()].filter((key) => !matched.has(key)) };
}

/** Avro full name: a dotted name is already full; else `namespace` if given ("" = none), else the enclosing one. */
function fullNameOf(schema: JsonObject, enclosingNamespace: string): string {
  const name = typeof schema['name'] === 'string' ? schema['name'] : '';
  if (name.includes('.')) return name;
  const namespace = typeof schema['namespace'] === 'string' ? schema['namespace'] : enclosingNamespace;
  return namespace === '' ? name : `${namespace}.${name}`;
}

function addTags(field: JsonObject, added: ReadonlySet<string>): void {
  const existing = field[TAGS_ATTRIBUTE];
  if (existing === undefined) {
    field[TAGS_ATTRIBUTE] = [...added].sort();
    return;
  }
  if (!Array.isArray(existing) || !existing.every((t): t is string => typeof t === 'string')) return;
  const present = new Set(existing);
  field[TAGS_ATTRIBUTE] = [...existing, ...[...added].filter((t) => !present.has(t)).sort()];
}
