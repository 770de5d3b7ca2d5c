import type { Type } from 'avsc';
import type { Envelope } from './discovery.js';
import type { FieldReport } from './field-scan.js';
import type { PiiKind } from './field-name-hints.js';
import { pathTokens } from './path-glob.js';
import { analyzePlan } from './plan.js';
import type { ActionName, Policy } from './policy.js';
import { parsePolicy, PolicyValidationError } from './policy.js';
import type { DetectorName, PseudonymFormat } from './policy-params.js';
import { DETECTOR_NAMES } from './policy-params.js';

/**
 * What `masker scan --suggest` proposes for the fields nothing covers: policy rules (checked to compile
 * against every scanned schema) or `confluent:tags` on the schema. Pure; built from counts, never values.
 */

/** A schema the suggested rules must compile against. */
export interface SuggestionSchema {
  readonly type: Type;
  readonly json: unknown;
  readonly envelope: Envelope;
}

export interface SuggestedRule {
  readonly path: string;
  readonly rule: string;
  readonly action: ActionName;
  /** Why, in counts (`email findings in 40 of 40 values`) or the name hint. */
  readonly why: string;
}

export interface PolicySuggestion {
  /** A whole policy document: the base policy (as validated) with the suggested rules appended. */
  readonly doc: Record<string, unknown>;
  readonly added: readonly SuggestedRule[];
  /** Uncovered Debezium envelope fields: rules never apply to untagged envelope fields, only tags cover them. */
  readonly needTags: readonly string[];
  /** Fields for which no action compiles against every scanned schema. */
  readonly unsuggested: readonly string[];
}

/** The pseudonym format of whole values found by one detector. */
const DETECTOR_FORMATS: Readonly<Record<DetectorName, PseudonymFormat>> = {
  email: 'email',
  iban: 'iban',
  'credit-card': 'credit-card',
  ssn: 'ssn',
  ipv6: 'ipv6',
  ipv4: 'ipv4',
  phone: 'phone',
};

/** The pseudonym format a name hint calls for, where one fits without seeing a value. */
const KIND_FORMATS: Readonly<Partial<Record<PiiKind, PseudonymFormat>>> = {
  EMAIL: 'email',
  PHONE: 'phone',
  SSN: 'ssn',
  CREDIT_CARD: 'credit-card',
  IBAN: 'iban',
  NAME: 'name',
  FIRST_NAME: 'first-name',
  LAST_NAME: 'last-name',
  ADDRESS: 'address',
};

/**
 * Whole values of one kind are pseudonymized only when (nearly) every sampled value is one: a field where
 * most values are something else (`channel: web` next to `contact: jane@…` in a map) would have them all
 * turned into fake emails, so it gets `scrub` instead.
 */
const PSEUDONYMIZE_SHARE = 0.9;

interface Candidate {
  readonly action: ActionName;
  readonly params: Record<string, unknown>;
}

/** Actions to try for a field, best first; the first that compiles against every schema is suggested. */
function candidatesFor(field: FieldReport): Candidate[] {
  const out: Candidate[] = [];
  const detectors = DETECTOR_NAMES.filter((d) => (field.hits.byDetector[d] ?? 0) > 0);
  const [only] = detectors;
  if (field.hits.values > 0) {
    const wholeKind = field.hits.inText === 0 && detectors.length === 1 && only !== undefined;
    if (wholeKind && field.hits.values >= PSEUDONYMIZE_SHARE * field.scanned) out.push({ action: 'pseudonymize', params: { format: DETECTOR_FORMATS[only] } });
    // Free text, or a field where only some values are PII (a map of mixed entries): replace what is found.
    else if (field.hits.inText > 0 || wholeKind) out.push({ action: 'scrub', params: { detectors } });
  } else {
    const kind = field.nameHints[0];
    const format = kind === undefined ? undefined : KIND_FORMATS[kind];
    if (format !== undefined) out.push({ action: 'pseudonymize', params: { format } });
    else if (kind === 'DOB') out.push({ action: 'date-shift', params: {} });
    else if (kind === 'POSTAL_CODE') out.push({ action: 'generalize', params: { keepPrefix: 3 } });
  }
  out.push({ action: 'redact', params: {} });
  if (field.nullable) out.push({ action: 'nullify', params: {} });
  return out;
}

function whyOf(field: FieldReport): string {
  if (field.hits.values > 0) {
    const detectors = DETECTOR_NAMES.filter((d) => (field.hits.byDetector[d] ?? 0) > 0).join(', ');
    const where = field.hits.inText > 0 ? ' inside text' : '';
    return `${detectors} findings${where} in ${field.hits.values} of ${field.scanned} sampled values`;
  }
  return `field name suggests ${field.nameHints.join(', ')}`;
}

/** A rule name `scan-<path>` ([a-z0-9-], ≤ 63 characters), unique among `taken`. */
function ruleName(path: string, taken: Set<string>): string {
  const slug = path
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const base = `scan-${slug === '' ? 'value' : slug}`.slice(0, 56).replace(/-+$/, '');
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** The glob that matches exactly this field (`**` for the root of a scalar schema). */
function globOf(path: string): string {
  return path === '$' || path === '' ? '**' : path;
}

function baseDocOf(base: Policy | undefined, name: string): Record<string, unknown> {
  if (base !== undefined) return { ...base, rules: [...base.rules] };
  return { apiVersion: 'masker/v1', kind: 'MaskingPolicy', name, sensitiveTags: ['PII'], onUnmatchedSensitive: 'redact', rules: [] };
}

/** True when `rule` parses and compiles against every schema (no plan error names it). */
function compilesEverywhere(baseDoc: Record<string, unknown>, rule: Record<string, unknown>, schemas: readonly SuggestionSchema[]): boolean {
  const rules = baseDoc['rules'];
  let policy: Policy;
  try {
    policy = parsePolicy({ ...baseDoc, rules: [...(Array.isArray(rules) ? rules : []), rule] }, 'masker scan suggestion');
  } catch (err) {
    if (err instanceof PolicyValidationError) return false;
    throw err;
  }
  return schemas.every((s) => {
    const analysis = analyzePlan(s.type, policy, { envelope: s.envelope, schemaJson: s.json });
    return !analysis.errors.some((e) => e.rule === rule['name']);
  });
}

/**
 * Rules for every `pii-not-covered` field: `scrub` (with the detectors that hit) for free text and for
 * fields where only some values are PII, `pseudonymize` with the detector's format when (nearly) every
 * sampled value is one whole finding of one kind, a fitting action for a name hint, `redact` otherwise
 * (whole values of several kinds) — each checked to compile against every scanned schema (else the next
 * one: redact, then nullify). Appended to the base policy (first match wins, and no enabled rule matched them).
 */
export function suggestPolicy(
  fields: readonly FieldReport[],
  options: { readonly base?: Policy; readonly schemas: readonly SuggestionSchema[]; readonly name?: string },
): PolicySuggestion {
  const doc = baseDocOf(options.base, options.name ?? 'scan-suggested');
  const taken = new Set((options.base?.rules ?? []).map((r) => r.name));
  const added: SuggestedRule[] = [];
  const needTags: string[] = [];
  const unsuggested: string[] = [];
  const rules = doc['rules'] as unknown[];
  for (const field of fields) {
    if (field.verdict !== 'pii-not-covered') continue;
    if (field.scope === 'envelope') {
      needTags.push(field.path);
      continue;
    }
    const why = whyOf(field);
    const name = ruleName(field.path, taken);
    const rule = candidatesFor(field)
      .map((c) => ({ name, description: `suggested by masker scan: ${why}`, match: { path: globOf(field.path) }, action: c.action, params: c.params }))
      .find((r) => compilesEverywhere(doc, r, options.schemas));
    if (rule === undefined) {
      taken.delete(name);
      unsuggested.push(field.path);
      continue;
    }
    rules.push(rule);
    added.push({ path: field.path, rule: name, action: rule.action, why });
  }
  return { doc, added, needTags, unsuggested };
}

type JsonObject = Record<string, unknown>;

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/** Named type definitions of a schema JSON, by full name and (when unambiguous) by short name. */
function indexNamed(json: unknown): Map<string, JsonObject> {
  const full = new Map<string, JsonObject>();
  const visit = (node: unknown, ns: string): void => {
    if (Array.isArray(node)) {
      for (const b of node) visit(b, ns);
      return;
    }
    if (!isJsonObject(node)) return;
    const type = node['type'];
    if (typeof type === 'string' && NAMED.has(type) && typeof node['name'] === 'string') {
      const name = node['name'];
      const own = typeof node['namespace'] === 'string' ? node['namespace'] : ns;
      const fullName = name.includes('.') || own === '' ? name : `${own}.${name}`;
      full.set(fullName, node);
      const inner = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : '';
      if (Array.isArray(node['fields'])) for (const f of node['fields']) if (isJsonObject(f)) visit(f['type'], inner);
      return;
    }
    if (type === 'array') visit(node['items'], ns);
    else if (type === 'map') visit(node['values'], ns);
    else visit(type, ns);
  };
  visit(json, '');
  const out = new Map(full);
  const shortCounts = new Map<string, number>();
  for (const name of full.keys()) {
    const short = name.slice(name.lastIndexOf('.') + 1);
    shortCounts.set(short, (shortCounts.get(short) ?? 0) + 1);
  }
  for (const [name, def] of full) {
    const short = name.slice(name.lastIndexOf('.') + 1);
    if (shortCounts.get(short) === 1 && !out.has(short)) out.set(short, def);
  }
  return out;
}

/** The type nodes a schema reference stands for (unions expanded, names resolved). */
function resolveType(t: unknown, named: Map<string, JsonObject>): JsonObject[] {
  if (typeof t === 'string') {
    const def = named.get(t) ?? named.get(t.slice(t.lastIndexOf('.') + 1));
    return def === undefined ? [] : [def];
  }
  if (Array.isArray(t)) return t.flatMap((b) => resolveType(b, named));
  if (!isJsonObject(t)) return [];
  if (isJsonObject(t['type']) || Array.isArray(t['type'])) return resolveType(t['type'], named);
  return [t];
}

/** The field definition that holds the leaf at `path` (its last field name), or undefined. */
function fieldAt(json: unknown, path: string, named: Map<string, JsonObject>): JsonObject | undefined {
  let nodes = resolveType(json, named);
  let field: JsonObject | undefined;
  for (const token of pathTokens(path)) {
    if (token === '[]') nodes = nodes.filter((n) => n['type'] === 'array').flatMap((n) => resolveType(n['items'], named));
    else if (token === '{}') nodes = nodes.filter((n) => n['type'] === 'map').flatMap((n) => resolveType(n['values'], named));
    else {
      field = nodes
        .flatMap((n) => (Array.isArray(n['fields']) ? n['fields'] : []))
        .find((f): f is JsonObject => isJsonObject(f) && f['name'] === token);
      if (field === undefined) return undefined;
      nodes = resolveType(field['type'], named);
    }
  }
  return field;
}

export interface TagSuggestion {
  /** The schema JSON with `confluent:tags` added. */
  readonly json: unknown;
  readonly tagged: readonly { readonly path: string; readonly tags: readonly string[] }[];
  /** Uncovered fields this schema has no field definition for (a root scalar, or a path of another schema). */
  readonly skipped: readonly string[];
}

/**
 * The schema JSON with `"confluent:tags": ["PII", "<KIND>"]` added to the field holding each `pii-not-covered`
 * leaf (existing tags kept). A named record used twice (Debezium `before`/`after`) is tagged once, where it
 * is defined. Tags make the field sensitive: a rule naming the tag masks it, else onUnmatchedSensitive.
 */
export function suggestTags(schemaJson: unknown, fields: readonly FieldReport[]): TagSuggestion {
  const json: unknown = structuredClone(schemaJson);
  const named = indexNamed(json);
  const tagged: { path: string; tags: string[] }[] = [];
  const skipped: string[] = [];
  for (const field of fields) {
    if (field.verdict !== 'pii-not-covered') continue;
    const tags = ['PII', ...(field.kind === undefined ? [] : [field.kind])];
    let found = false;
    for (const path of field.paths) {
      const def = path === '$' ? undefined : fieldAt(json, path, named);
      if (def === undefined) continue;
      found = true;
      const existing = Array.isArray(def['confluent:tags']) ? (def['confluent:tags'] as unknown[]).filter((t): t is string => typeof t === 'string') : [];
      def['confluent:tags'] = [...existing, ...tags.filter((t) => !existing.includes(t))];
    }
    if (found) tagged.push({ path: field.path, tags });
    else skipped.push(field.path);
  }
  return { json, tagged, skipped };
}
