import type { Type } from 'avsc';
import type { ProblemItem } from './problem.js';

/**
 * Avro JSON encoding (the Avro spec's JSON form, as `avro-tools tojson` prints it): records as objects,
 * unions as `null` or `{"<branch name>": value}`, bytes/fixed as strings of code points 0-255.
 *
 * avsc's `fromString` decodes it, but silently drops unknown record keys and throws messages that quote
 * the offending value. {@link checkJsonEncoding} walks the JSON along the schema first and reports what
 * is wrong by PATH and expected type only, so a client learns where its record is wrong without any value
 * ever being echoed back.
 */

/** At most this many problems are reported per record. */
export const MAX_REPORTED_PROBLEMS = 10;
const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

interface AvscField {
  readonly name: string;
  readonly type: Type;
  defaultValue(): unknown;
}

/** Problems of `json` as a value of `type` in Avro JSON encoding; empty when it is one. Paths start at `root`. */
export function checkJsonEncoding(type: Type, json: unknown, root = '$'): ProblemItem[] {
  const problems: ProblemItem[] = [];
  try {
    walk(type, json, root, problems);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    problems.push({ path: root, detail: 'the record is nested too deeply' });
  }
  return problems.slice(0, MAX_REPORTED_PROBLEMS);
}

/** Decodes a checked JSON value into avsc's in-memory form (the form maskRecord takes). */
export function decodeJsonEncoding(type: Type, json: unknown): unknown {
  return type.fromString(JSON.stringify(json));
}

/** Encodes an in-memory value to Avro JSON encoding, as a JSON value (not text). */
export function encodeJsonEncoding(type: Type, value: unknown): unknown {
  return JSON.parse(type.toString(value)) as unknown;
}

function walk(type: Type, json: unknown, path: string, out: ProblemItem[]): void {
  if (out.length >= MAX_REPORTED_PROBLEMS) return;
  const name = type.typeName;
  if (name === 'record' || name === 'error') {
    if (!isPlainObject(json)) {
      out.push({ path, detail: `expected an object (${describe(type)}), found ${kindOf(json)}` });
      return;
    }
    const fields = (type as unknown as { fields: readonly AvscField[] }).fields;
    const known = new Set(fields.map((f) => f.name));
    const unknown = Object.keys(json).filter((k) => !known.has(k));
    if (unknown.length > 0) {
      const shown = unknown.filter((k) => AVRO_NAME.test(k)).slice(0, 5);
      out.push({ path, detail: `unknown field(s)${shown.length > 0 ? ` ${shown.join(', ')}` : ''} not in ${describe(type)}` });
    }
    for (const field of fields) {
      const fieldPath = `${path}.${field.name}`;
      if (!Object.hasOwn(json, field.name)) {
        if (field.defaultValue() === undefined) out.push({ path: fieldPath, detail: `required (${describe(field.type)})` });
        continue;
      }
      walk(field.type, json[field.name], fieldPath, out);
    }
    return;
  }
  if (name === 'array') {
    if (!Array.isArray(json)) {
      out.push({ path, detail: `expected an array, found ${kindOf(json)}` });
      return;
    }
    const items = (type as unknown as { itemsType: Type }).itemsType;
    json.forEach((item: unknown, i) => walk(items, item, `${path}[${i}]`, out));
    return;
  }
  if (name === 'map') {
    if (!isPlainObject(json)) {
      out.push({ path, detail: `expected an object (map), found ${kindOf(json)}` });
      return;
    }
    const values = (type as unknown as { valuesType: Type }).valuesType;
    // Map keys are data (they can be personal): the path says "a map value", never which key.
    for (const value of Object.values(json)) walk(values, value, `${path}{}`, out);
    return;
  }
  if (name.startsWith('union')) {
    walkUnion(type, json, path, out);
    return;
  }
  walkLeaf(type, json, path, out);
}

function walkUnion(type: Type, json: unknown, path: string, out: ProblemItem[]): void {
  const branches = (type as unknown as { types: readonly Type[] }).types;
  const names = branches.map((b) => b.branchName ?? b.typeName);
  if (json === null) {
    if (!names.includes('null')) out.push({ path, detail: `null is not a branch of union [${names.join(', ')}]` });
    return;
  }
  const keys = isPlainObject(json) ? Object.keys(json) : [];
  const branchName = keys[0];
  const index = keys.length === 1 && branchName !== undefined ? names.indexOf(branchName) : -1;
  const branch = branches[index];
  if (branch === undefined || branchName === undefined || !isPlainObject(json)) {
    out.push({ path, detail: `expected null or {"<branch>": value} with one of [${names.join(', ')}], found ${kindOf(json)}` });
    return;
  }
  walk(branch, json[branchName], path, out);
}

function walkLeaf(type: Type, json: unknown, path: string, out: ProblemItem[]): void {
  if (json === undefined) {
    out.push({ path, detail: `required (${describe(type)})` });
    return;
  }
  // For every primitive but bytes/fixed (strings of code points in JSON), the JSON value is the in-memory
  // value, so isValid is exact and cheap. avsc's error messages quote the value: only the expected type
  // and the JSON kind found are reported.
  if (!leafMatches(type, json)) out.push({ path, detail: `expected ${describe(type)}, found ${kindOf(json)}` });
}

function leafMatches(type: Type, json: unknown): boolean {
  if (type.typeName !== 'bytes' && type.typeName !== 'fixed') return type.isValid(json);
  try {
    type.fromString(JSON.stringify(json));
    return true;
  } catch {
    return false;
  }
}

function describe(type: Type): string {
  const t = type as Type & { name?: string; symbols?: readonly string[]; size?: number };
  if (t.typeName === 'enum' && t.symbols !== undefined) return `enum ${t.name ?? ''} [${t.symbols.slice(0, 20).join(', ')}]`.replace('  ', ' ');
  if (t.typeName === 'fixed' && t.size !== undefined) return `fixed(${t.size})`;
  if (t.name !== undefined && t.name !== '') return `${t.typeName} ${t.name}`;
  return t.typeName;
}

function kindOf(json: unknown): string {
  if (json === null) return 'null';
  if (Array.isArray(json)) return 'an array';
  if (typeof json === 'object') return 'an object';
  if (typeof json === 'number') return Number.isInteger(json) ? 'an integer' : 'a number';
  if (typeof json === 'string') return 'a string';
  if (typeof json === 'boolean') return 'a boolean';
  return typeof json;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
