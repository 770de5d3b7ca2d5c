import fc from 'fast-check';
import type { Policy } from '../../src/masking/index.js';
import { parsePolicy, PSEUDONYM_FORMATS } from '../../src/masking/index.js';

/**
 * Random Avro schemas and records for the masking properties. Sensitive leaves carry `confluent:tags`
 * and get distinctive values (strings start with `SENS` + ≥ 10 upper-case characters, bytes with the
 * bytes of `SENS`), so "no raw sensitive value appears in the output" cannot trip over short values
 * such as "a" that legitimately occur elsewhere. Non-sensitive strings use lower-case letters and digits
 * only, so they never look sensitive.
 */

export const LEAF_KINDS = [
  'string', 'nullable-string', 'int', 'long', 'float', 'double', 'boolean', 'bytes', 'fixed', 'enum',
  'date', 'timestamp-millis', 'uuid', 'iso-date', 'multi',
] as const;
export type LeafKind = (typeof LEAF_KINDS)[number];

export const CONTAINERS = ['none', 'array', 'map', 'record', 'nullable-record'] as const;
export type Container = (typeof CONTAINERS)[number];

export interface FieldSpec {
  readonly kind: LeafKind;
  readonly sensitive: boolean;
  readonly container: Container;
}

export const SENSITIVE_PREFIX = 'SENS';

const upper = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
const lower = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 '.split(''));

export const sensitiveString = fc.string({ unit: upper, minLength: 10, maxLength: 24 }).map((s) => `${SENSITIVE_PREFIX}${s}`);
const plainString = fc.string({ unit: lower, maxLength: 12 });
const sensitiveBytes = fc.uint8Array({ minLength: 8, maxLength: 16 }).map((b) => Buffer.concat([Buffer.from(SENSITIVE_PREFIX), Buffer.from(b)]));
const plainBytes = fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b.map((x) => x & 0x7f)));
/** avsc accepts longs within ±(2^53 - 2). */
const avroLong = fc.integer({ min: -9_007_199_254_740_990, max: 9_007_199_254_740_990 });
const isoDate = fc.integer({ min: -3650, max: 30_000 }).map((days) => new Date(days * 86_400_000).toISOString().slice(0, 10));

export const fieldSpec: fc.Arbitrary<FieldSpec> = fc.record({
  kind: fc.constantFrom(...LEAF_KINDS),
  sensitive: fc.boolean(),
  container: fc.constantFrom(...CONTAINERS),
});

let counter = 0;

function leafType(kind: LeafKind): unknown {
  switch (kind) {
    case 'nullable-string':
      return ['null', 'string'];
    case 'fixed':
      return { type: 'fixed', name: `Fx${counter++}`, size: 16 };
    case 'enum':
      return { type: 'enum', name: `En${counter++}`, symbols: ['A', 'B', 'C'] };
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'timestamp-millis':
      return { type: 'long', logicalType: 'timestamp-millis' };
    case 'uuid':
      return { type: 'string', logicalType: 'uuid' };
    case 'iso-date':
      return 'string';
    case 'multi':
      return ['null', 'string', 'long'];
    default:
      return kind;
  }
}

function leafTags(spec: FieldSpec): string[] {
  if (!spec.sensitive) return [];
  if (spec.kind === 'multi') return ['PII', 'MULTI'];
  if (spec.kind === 'iso-date') return ['PII', 'ISO'];
  return ['PII'];
}

/** A row record schema (JSON) for the given field specs; fields are named `${prefix}0`, `${prefix}1`, … */
export function rowSchema(specs: readonly FieldSpec[], name: string, prefix = 'f'): { type: 'record'; name: string; fields: Record<string, unknown>[] } {
  const fields = specs.map((spec, i): Record<string, unknown> => {
    const leaf = leafType(spec.kind);
    const tags = leafTags(spec);
    const withTags = (f: Record<string, unknown>): Record<string, unknown> => (tags.length === 0 ? f : { ...f, 'confluent:tags': tags });
    switch (spec.container) {
      case 'none':
        return withTags({ name: `${prefix}${i}`, type: leaf });
      case 'array':
        return withTags({ name: `${prefix}${i}`, type: { type: 'array', items: leaf } });
      case 'map':
        return withTags({ name: `${prefix}${i}`, type: { type: 'map', values: leaf } });
      case 'record':
      case 'nullable-record': {
        const inner = { type: 'record', name: `${name}Inner${i}`, fields: [withTags({ name: 'v', type: leaf }), { name: 'note', type: 'string' }] };
        return { name: `${prefix}${i}`, type: spec.container === 'record' ? inner : ['null', inner] };
      }
    }
  });
  return { type: 'record', name, fields };
}

function leafValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const s = spec.sensitive;
  switch (spec.kind) {
    case 'string':
      return s ? sensitiveString : plainString;
    case 'nullable-string':
      return fc.option(s ? sensitiveString : plainString, { nil: null });
    case 'int':
      return fc.integer();
    case 'long':
      return avroLong;
    case 'float':
      return fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => Math.fround(x));
    case 'double':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });
    case 'boolean':
      return fc.boolean();
    case 'bytes':
      return s ? sensitiveBytes : plainBytes;
    case 'fixed':
      return fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => Buffer.concat([s ? Buffer.from(SENSITIVE_PREFIX) : Buffer.alloc(4), Buffer.from(b)]));
    case 'enum':
      return fc.constantFrom('A', 'B', 'C');
    case 'date':
      return fc.integer({ min: -100_000, max: 100_000 });
    case 'timestamp-millis':
      return fc.integer({ min: 0, max: 4_000_000_000_000 });
    case 'uuid':
      return fc.uuid();
    case 'iso-date':
      return isoDate;
    case 'multi':
      return fc.oneof(fc.constant(null), s ? sensitiveString : plainString, avroLong);
  }
}

/** A record value for the row schema built from the same specs (and the same field name prefix). */
export function rowValue(specs: readonly FieldSpec[], prefix = 'f'): fc.Arbitrary<Record<string, unknown>> {
  const fields = specs.map((spec) => {
    const leaf = leafValue(spec);
    switch (spec.container) {
      case 'none':
        return leaf;
      case 'array':
        return fc.array(leaf, { maxLength: 3 });
      case 'map':
        return fc.dictionary(fc.string({ unit: lower, minLength: 1, maxLength: 4 }), leaf, { maxKeys: 3 });
      case 'record':
        return fc.record({ v: leaf, note: plainString });
      case 'nullable-record':
        return fc.option(fc.record({ v: leaf, note: plainString }), { nil: null });
    }
  });
  return fc.tuple(...fields).map((values) => Object.fromEntries(values.map((v, i) => [`${prefix}${i}`, v])));
}

/**
 * A Debezium envelope around a random row: `source` carries Debezium's own untagged fields plus random
 * fields (tagged or not, `s0`, `s1`, …) and maybe `query` (SQL text holding row values, or tagged); more
 * random top-level envelope fields (`e0`, …) sit next to `op` and `ts_ms`.
 */
export interface EnvelopeSpec {
  readonly source: readonly FieldSpec[];
  readonly extra: readonly FieldSpec[];
  readonly query: 'none' | 'string' | 'nullable-string';
  /** A tagged `source.query` follows the rules (its value is then a distinctive sensitive string). */
  readonly queryTagged: boolean;
  /** `source` before the rows: its leaves are masked before any row is entered. */
  readonly sourceFirst: boolean;
}

export const envelopeSpec: fc.Arbitrary<EnvelopeSpec> = fc.record({
  source: fc.array(fieldSpec, { maxLength: 4 }),
  extra: fc.array(fieldSpec, { maxLength: 3 }),
  query: fc.constantFrom('none', 'string', 'nullable-string'),
  queryTagged: fc.boolean(),
  sourceFirst: fc.boolean(),
});

/** The envelope schema (JSON) around `row` (a record schema whose name `after` refers to). */
export function debeziumSchema(row: { name: string }, env: EnvelopeSpec): Record<string, unknown> {
  const query = env.query === 'none' ? [] : [{
    name: 'query',
    type: env.query === 'string' ? 'string' : ['null', 'string'],
    ...(env.queryTagged ? { 'confluent:tags': ['PII'] } : {}),
  }];
  const source = {
    name: 'source',
    type: {
      type: 'record', name: 'Source', fields: [
        { name: 'connector', type: 'string' },
        { name: 'db', type: 'string' },
        { name: 'table', type: ['null', 'string'], default: null },
        { name: 'ts_ms', type: 'long' },
        ...rowSchema(env.source, 'Source', 's').fields,
        ...query,
      ],
    },
  };
  const fields: Record<string, unknown>[] = [
    { name: 'before', type: ['null', row], default: null },
    { name: 'after', type: ['null', row.name], default: null },
    { name: 'op', type: 'string' },
    { name: 'ts_ms', type: ['null', 'long'], default: null },
    ...rowSchema(env.extra, 'Extra', 'e').fields,
  ];
  if (env.sourceFirst) fields.unshift(source);
  else fields.splice(4, 0, source);
  return { type: 'record', name: 'Envelope', fields };
}

const letters = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split(''));

/** SQL text as Debezium's `source.query` holds it: the quoted values are PII (see `quotedValues`). */
export const sqlWithPii: fc.Arbitrary<string> = fc
  .record({ id: fc.nat(99_999), local: fc.string({ unit: letters, minLength: 3, maxLength: 10 }), line: fc.integer({ min: 0, max: 9999 }) })
  .map(({ id, local, line }) => `INSERT INTO customers (id, email, phone) VALUES (${id}, '${local}@acme.com', '415-555-${String(line).padStart(4, '0')}')`);

/** The quoted values of a SQL text. */
export function quotedValues(sql: string): string[] {
  return [...sql.matchAll(/'([^']*)'/g)].map((m) => m[1] ?? '');
}

/** An envelope value for `debeziumSchema(row, env)`, with `row` values for before/after. */
export function debeziumValue(row: fc.Arbitrary<Record<string, unknown>>, env: EnvelopeSpec): fc.Arbitrary<Record<string, unknown>> {
  const text = env.queryTagged ? sensitiveString : sqlWithPii;
  const query: fc.Arbitrary<Record<string, unknown>> = env.query === 'none'
    ? fc.constant({})
    : (env.query === 'string' ? text : fc.option(text, { nil: null })).map((q) => ({ query: q }));
  const source = fc
    .tuple(rowValue(env.source, 's'), query, fc.option(plainString, { nil: null }), fc.integer({ min: 0, max: 4_000_000_000_000 }))
    .map(([own, q, table, ts]) => ({ connector: 'mysql', db: 'inventory', table, ts_ms: ts, ...own, ...q }));
  return fc
    .record({
      before: fc.option(row, { nil: null }),
      after: fc.option(row, { nil: null }),
      op: fc.constantFrom('c', 'u', 'd', 'r'),
      ts_ms: fc.option(fc.integer({ min: 0, max: 9_007_199_254_740_990 }), { nil: null }),
      source,
      extra: rowValue(env.extra, 'e'),
    })
    .map(({ extra, ...envelope }) => ({ ...envelope, ...extra }));
}

/** Every distinctive sensitive value inside a value (strings / buffers starting with SENS). */
export function sensitiveValues(value: unknown, out: Buffer[] = []): Buffer[] {
  if (typeof value === 'string') {
    if (value.startsWith(SENSITIVE_PREFIX)) out.push(Buffer.from(value, 'utf8'));
  } else if (Buffer.isBuffer(value)) {
    if (value.subarray(0, 4).equals(Buffer.from(SENSITIVE_PREFIX))) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) sensitiveValues(v, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) sensitiveValues(v, out);
  }
  return out;
}

/**
 * Date-shift entities: the row's `id` (of several types) or `ref.id` through a nullable record, for rules
 * with `entityPath`.
 */
export type EntityKind = 'string' | 'long' | 'nullable-string' | 'int' | 'bytes' | 'nested';
export const ENTITY_KINDS: readonly EntityKind[] = ['string', 'long', 'nullable-string', 'int', 'bytes', 'nested'];

/** The entity field of a row schema (put first in the row). */
export function entityField(kind: EntityKind): Record<string, unknown> {
  switch (kind) {
    case 'nullable-string':
      return { name: 'id', type: ['null', 'string'] };
    case 'nested':
      return { name: 'ref', type: ['null', { type: 'record', name: 'Ref', fields: [{ name: 'id', type: 'string' }, { name: 'n', type: 'int' }] }] };
    default:
      return { name: 'id', type: kind };
  }
}

const entityText = fc.constantFrom('p-1', 'p-2', 'p-3', 'patient-42', '');

/** The entity field's value, as an object to spread into the row value. */
export function entityValue(kind: EntityKind): fc.Arbitrary<Record<string, unknown>> {
  switch (kind) {
    case 'string':
      return entityText.map((id) => ({ id }));
    case 'long':
      return fc.integer({ min: -5, max: 5 }).map((id) => ({ id }));
    case 'int':
      return fc.integer({ min: -5, max: 5 }).map((id) => ({ id }));
    case 'nullable-string':
      return fc.option(entityText, { nil: null }).map((id) => ({ id }));
    case 'bytes':
      return fc.uint8Array({ maxLength: 3 }).map((b) => ({ id: Buffer.from(b) }));
    case 'nested':
      return fc.option(fc.record({ id: entityText, n: fc.integer({ min: 0, max: 9 }) }), { nil: null }).map((ref) => ({ ref }));
  }
}

/** Untagged text for the safety net: plain, or holding an email / phone / card / IPv4. */
export const untaggedText = fc.oneof(
  fc.constantFrom('all good', 'call back tomorrow', 'ref 7'),
  fc.nat(9999).map((n) => `mail jane.doe${n}@example.com please`),
  fc.nat(9999).map((n) => `call +1 415 555 ${String(n).padStart(4, '0')}`),
  fc.constant('card 4111 1111 1111 1111 on file'),
  fc.nat(250).map((n) => `from 10.0.${n}.7`),
);

export function entityPathOf(kind: EntityKind): string {
  return kind === 'nested' ? 'ref.id' : 'id';
}

/** The random choices behind `variedPolicy`. */
export interface PolicyChoices {
  readonly picks: readonly number[];
  readonly format: string;
  readonly freeText: 'scrub' | 'redact' | 'keep' | undefined;
  readonly untagged: 'default' | 'off' | 'alert' | 'quarantine' | 'some';
  readonly unmatched: 'redact' | 'quarantine';
  readonly disableOne: boolean;
}

export const policyChoices: fc.Arbitrary<PolicyChoices> = fc.record({
  picks: fc.array(fc.nat(1000), { minLength: 16, maxLength: 16 }),
  format: fc.constantFrom(...PSEUDONYM_FORMATS.filter((f) => f !== 'uuid')),
  freeText: fc.constantFrom(undefined, 'scrub', 'redact', 'keep'),
  untagged: fc.constantFrom('default', 'off', 'alert', 'quarantine', 'some'),
  unmatched: fc.constantFrom('redact', 'quarantine', 'redact', 'redact'),
  disableOne: fc.boolean(),
});

/**
 * Rules by tag and type (first match wins), each with an action picked from those that can apply to every
 * field it matches. `variant` 0 uses the masking actions of the property test's policy; 1 adds date shifts
 * by entity on row fields (`f*`: never envelope fields), scrub, keep, nullify, the parameters the other
 * actions take, and a rule for the untagged `contact` field that sometimes matches nothing (the safety
 * net then scans it). Untagged settings and onUnmatchedSensitive vary too. (`disableOne` is drawn but not
 * used here, so that the engine corpus's draws stay as they were.)
 */
export function variedPolicy(c: PolicyChoices, variant: 0 | 1, entityPath: string): Policy {
  let n = 0;
  const choose = (options: readonly string[]): string => options[(c.picks[n++ % c.picks.length] ?? 0) % options.length]!;
  const params = (act: string, param: string | undefined): Record<string, unknown> | undefined => {
    switch (act) {
      case 'pseudonymize':
        return { format: param === 'uuid' ? 'uuid' : c.format, ...(param === 'domain' ? { domain: 'shared' } : {}) };
      case 'mask':
        return param === 'x' ? { keepLast: 4, char: 'X' } : { keepFirst: 1, keepLast: 1 };
      case 'generalize':
        return param === 'prefix' ? { keepPrefix: 3 } : { bucket: param === 'half' ? 0.5 : 10 };
      case 'hash':
        return param === 'b64' ? { length: 12, encoding: 'base64url', domain: 'shared' } : undefined;
      case 'date-shift':
        return param === 'entity' ? { maxDays: 400, entityPath } : param === 'wide' ? { maxDays: 3650 } : undefined;
      case 'scrub':
        if (param === 'absent') return { detectors: ['email'], domain: 'absent' };
        return param === 'pseudonym' ? { replace: 'pseudonym' } : param === 'some' ? { detectors: ['email', 'phone'] } : undefined;
      case 'keep':
        return { reason: 'corpus' };
      case 'redact':
        return param === 'text' ? { replacement: 'XXX' } : undefined;
      default:
        return undefined;
    }
  };
  const rule = (name: string, options: readonly string[], match: Record<string, unknown>): Record<string, unknown> => {
    const [act = 'redact', param] = choose(options).split(':');
    const p = params(act, param);
    return { name, match, action: act, ...(p === undefined ? {} : { params: p }) };
  };
  const rules = variant === 0
    ? [
      rule('multi', ['redact', 'hash'], { tags: ['MULTI'] }),
      rule('iso', ['date-shift', 'redact'], { tags: ['ISO'] }),
      rule('uuids', ['redact', 'hash'], { tags: ['PII'], type: ['uuid'] }),
      rule('dates', ['date-shift', 'redact', 'hash'], { tags: ['PII'], type: ['date', 'timestamp-millis'] }),
      rule('strings', ['redact', 'hash', 'pseudonymize', 'mask', 'generalize:prefix'], { tags: ['PII'], type: ['string'] }),
      rule('ints', ['redact', 'hash', 'generalize:ten'], { tags: ['PII'], type: ['int', 'long'] }),
      rule('floats', ['redact', 'generalize:half'], { tags: ['PII'], type: ['float', 'double'] }),
      rule('blobs', ['redact', 'hash'], { tags: ['PII'], type: ['bytes', 'fixed'] }),
    ]
    : [
      rule('row-dates', ['date-shift:entity', 'date-shift:entity', 'keep'], { tags: ['PII'], type: ['date', 'timestamp-millis'], path: 'f*' }),
      rule('row-iso', ['date-shift:entity', 'redact:text'], { tags: ['ISO'], path: 'f*' }),
      rule('multi', ['nullify', 'redact', 'hash:b64', 'keep'], { tags: ['MULTI'] }),
      rule('iso', ['date-shift:wide', 'redact', 'keep'], { tags: ['ISO'] }),
      rule('uuids', ['hash', 'keep', 'pseudonymize:uuid'], { tags: ['PII'], type: ['uuid'] }),
      rule('dates', ['date-shift', 'redact', 'hash'], { tags: ['PII'], type: ['date', 'timestamp-millis'] }),
      rule('strings', ['scrub', 'scrub:pseudonym', 'scrub:some', 'keep', 'mask:x', 'pseudonymize:domain', 'hash:b64', 'redact:text'], { tags: ['PII'], type: ['string'] }),
      rule('ints', ['redact', 'hash', 'generalize:ten', 'keep'], { tags: ['PII'], type: ['int', 'long'] }),
      rule('floats', ['redact', 'generalize:half', 'keep'], { tags: ['PII'], type: ['float', 'double'] }),
      rule('blobs', ['redact', 'hash:b64', 'keep'], { tags: ['PII'], type: ['bytes', 'fixed'] }),
      rule('enums', ['redact', 'keep'], { tags: ['PII'], type: ['enum'] }),
      rule('notes', ['scrub', 'keep', 'mask', 'scrub:absent', 'scrub:absent'], { path: '**.contact' }),
    ].map((r) => (isAbsent(r) ? { ...r, match: { path: '**.absent' }, params: undefined } : r))
      .map(({ params: p, ...r }) => (p === undefined ? r : { ...r, params: p }));
  const untagged = c.untagged === 'off' ? { detect: [] }
    : c.untagged === 'alert' ? { onDetected: 'alert' }
      : c.untagged === 'quarantine' ? { onDetected: 'quarantine' }
        : c.untagged === 'some' ? { detect: ['email', 'ipv4'] }
          : undefined;
  return parsePolicy({
    apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: `corpus-${variant}`,
    onUnmatchedSensitive: c.unmatched,
    ...(c.freeText === undefined ? {} : { envelope: { freeText: c.freeText } }),
    ...(untagged === undefined ? {} : { untagged }),
    rules,
  }, `corpus-${variant}`);
}

/** A `notes` rule made to match nothing, so that `contact` falls to the safety net. */
function isAbsent(rule: Record<string, unknown>): boolean {
  return (rule['params'] as { domain?: unknown } | undefined)?.domain === 'absent';
}
