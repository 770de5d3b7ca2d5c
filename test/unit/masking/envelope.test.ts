import { describe, expect, it } from 'vitest';
import type { CompiledPlan, FieldDecision, Policy } from '../../../src/masking/index.js';
import { analyzePlan, compilePlan, discoverFields, ENVELOPE_FREE_TEXT_RULE, maskEncoded, maskRecord, parsePolicy, PolicyValidationError, UNMATCHED_RULE } from '../../../src/masking/index.js';
import { referenceMaskBody, wrappedType } from '../../property/reference-masker.js';
import type { LoadedSchema } from './support.js';
import { exampleSchema, fixtureSchema, keyRing, plan, policy, policyDoc, schema, thrown } from './support.js';

/**
 * Debezium envelope fields outside `before`/`after`: tagged ones are masked like row fields (full paths),
 * `source.query` is scrubbed by default (envelope.freeText), untagged metadata is never touched.
 */

const keys = keyRing();
const cdc = fixtureSchema('cdc-envelope-tags.avsc');

const QUERY = "INSERT INTO customers (id, email, phone, card) VALUES (1001, 'jane@acme.com', '415-555-0132', '4111 1111 1111 1111')";
const RAW_PII = ['jane@acme.com', '415-555-0132', '4111 1111 1111 1111'];

function source(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '2.5.0.Final', connector: 'mysql', name: 'dbserver1', ts_ms: 1_700_000_000_000, snapshot: 'false', db: 'inventory',
    table: 'customers', server_id: 223344, file: 'mysql-bin.000003', pos: 154, email: 'ops.lead@acme.com', query: QUERY, ...overrides,
  };
}

function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    before: null,
    after: { id: 1001, email: 'jane@acme.com', phone: '415-555-0132', tier: 'gold' },
    source: source(),
    op: 'c',
    ts_ms: 1_700_000_000_123,
    transaction: { id: 'tx-77', user: 'jane.doe', total_order: 1, data_collection_order: 1 },
    ...overrides,
  };
}

const debezium = (s: LoadedSchema, p: Policy): CompiledPlan => plan(s, p, { envelope: 'debezium' });

interface Masked {
  readonly value: Record<string, unknown>;
  readonly fields: readonly FieldDecision[];
  readonly bytes: Buffer;
}

/** Masks with the engine, checks it agrees with the reference masker, returns the decoded output. */
function maskBoth(s: LoadedSchema, p: CompiledPlan, record: unknown): Masked {
  const body = s.type.toBuffer(record);
  const reference = referenceMaskBody(p, wrappedType(s.json), body, keys);
  const viaBytes = maskEncoded(p, body, keys);
  expect(viaBytes.bytes.equals(reference.bytes)).toBe(true);
  expect(viaBytes.fields).toEqual(reference.fields);
  return { value: s.type.fromBuffer(viaBytes.bytes) as Record<string, unknown>, fields: viaBytes.fields, bytes: viaBytes.bytes };
}

const rowRules = [
  { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person' } },
  { name: 'phones', match: { tags: ['PHONE'] }, action: 'mask', params: { keepLast: 2 } },
];

/** A copy of the fixture JSON changed by `edit` (field lookups by name). */
function variant(edit: (sourceFields: Record<string, unknown>[], top: Record<string, unknown>[]) => void): LoadedSchema {
  const json = structuredClone(cdc.json) as { fields: Record<string, unknown>[] };
  const src = json.fields.find((f) => f['name'] === 'source') as { type: { fields: Record<string, unknown>[] } };
  edit(src.type.fields, json.fields);
  return schema(json);
}

describe('tagged envelope fields', () => {
  it('get the first enabled matching rule, with full paths in the decisions (engine and reference masker agree)', () => {
    const p = debezium(cdc, policy(rowRules));
    const out = maskBoth(cdc, p, envelope());
    const src = out.value['source'] as Record<string, unknown>;
    const after = out.value['after'] as Record<string, unknown>;
    expect(src['email']).not.toBe('ops.lead@acme.com');
    expect(src['email']).toMatch(/@/);
    expect(after['email']).not.toBe('jane@acme.com');
    expect(out.fields).toContainEqual({ path: 'source.email', action: 'pseudonymize', rule: 'emails' });
    expect(p.decisions).toContainEqual({ path: 'source.email', action: 'pseudonymize', rule: 'emails' });
    // Same domain, same input → same pseudonym, in the envelope as in the row.
    const same = maskBoth(cdc, p, envelope({ source: source({ email: 'jane@acme.com' }) }));
    expect((same.value['source'] as Record<string, unknown>)['email']).toBe((same.value['after'] as Record<string, unknown>)['email']);
  });

  it('match rule paths on the full path: source.email, not the row-relative email', () => {
    const p = debezium(cdc, policy([
      { name: 'row-email', match: { path: 'email' }, action: 'hash' },
      { name: 'source-email', match: { path: 'source.email' }, action: 'redact', params: { replacement: 'ops@example.invalid' } },
    ]));
    expect(p.decisions.filter((d) => d.rule === 'row-email').map((d) => d.path)).toEqual(['before.email', 'after.email']);
    expect(p.decisions.filter((d) => d.rule === 'source-email').map((d) => d.path)).toEqual(['source.email']);
    expect((maskBoth(cdc, p, envelope()).value['source'] as Record<string, unknown>)['email']).toBe('ops@example.invalid');
  });

  it('without a rule are redacted by onUnmatchedSensitive: redact (the default)', () => {
    const p = debezium(cdc, policy(rowRules));
    const out = maskBoth(cdc, p, envelope());
    expect((out.value['transaction'] as Record<string, unknown>)['user']).toBe('[REDACTED]');
    expect(out.fields).toContainEqual({ path: 'transaction.user', action: 'redact', rule: UNMATCHED_RULE });
    expect(p.warnings.map((w) => w.message)).toContain(
      'field transaction.user is tagged PII in the envelope but no enabled rule covers it: redacted (onUnmatchedSensitive: redact)',
    );
    expect(out.bytes.includes(Buffer.from('jane.doe'))).toBe(false);
  });

  it('without a rule quarantine every record with onUnmatchedSensitive: quarantine (maskRecord and maskEncoded)', () => {
    const p = debezium(cdc, policy(rowRules, { onUnmatchedSensitive: 'quarantine' }));
    expect(p.quarantineReason).toContain('transaction.user');
    const record = envelope();
    for (const run of [() => maskRecord(p, record, keys), () => maskEncoded(p, cdc.type.toBuffer(record), keys)]) {
      const err = thrown(run);
      expect(err.code).toBe('MASKER_UNMATCHED_SENSITIVE');
      expect(err.message).toContain('transaction.user');
      expect(err.message).not.toContain('jane');
    }
  });

  it('inherit tags from an enclosing envelope field', () => {
    const tagged = variant((_src, top) => {
      const tx = top.find((f) => f['name'] === 'transaction')!;
      tx['confluent:tags'] = ['PII'];
    });
    const p = debezium(tagged, policy(rowRules));
    const paths = p.decisions.filter((d) => d.path.startsWith('transaction.')).map((d) => d.path);
    expect(paths).toEqual(['transaction.id', 'transaction.user', 'transaction.total_order', 'transaction.data_collection_order']);
    const tx = maskBoth(tagged, p, envelope()).value['transaction'] as Record<string, unknown>;
    expect(tx).toEqual({ id: '[REDACTED]', user: '[REDACTED]', total_order: 0, data_collection_order: 0 });
  });

  it('are a plan error for date-shift with an entityPath (an envelope field has no row)', () => {
    const dated = variant((src) => {
      src.push({ name: 'committed', type: { type: 'long', logicalType: 'timestamp-millis' }, 'confluent:tags': ['PII', 'WHEN'] });
    });
    const a = analyzePlan(dated.type, policy([...rowRules, { name: 'when', match: { tags: ['WHEN'] }, action: 'date-shift', params: { entityPath: 'id' } }]), { envelope: 'debezium', schemaJson: dated.json });
    expect(a.plan).toBeUndefined();
    expect(a.errors.map((e) => e.message).join('\n')).toMatch(/source\.committed.*entityPath id is relative to a row/);
  });

  it('are date-shifted (never by 0 days) without an entityPath, even before any row is entered', () => {
    const dated = variant((src, top) => {
      src.push({ name: 'committed', type: { type: 'long', logicalType: 'timestamp-millis' }, 'confluent:tags': ['PII', 'WHEN'] });
      // The envelope field comes first: no row has been entered when it is masked.
      const i = top.findIndex((f) => f['name'] === 'source');
      top.unshift(...top.splice(i, 1));
    });
    const p = debezium(dated, policy([...rowRules, { name: 'when', match: { tags: ['WHEN'] }, action: 'date-shift' }]));
    const committed = 1_700_000_000_000;
    for (const before of [null, { id: 1, email: 'a@b.io', phone: null, tier: 't' }]) {
      const out = maskBoth(dated, p, envelope({ before, after: null, source: source({ committed }) }));
      const shifted = (out.value['source'] as Record<string, unknown>)['committed'] as number;
      expect(shifted).not.toBe(committed);
      expect(Math.abs((shifted - committed) % 86_400_000)).toBe(0);
    }
  });
});

describe('date-shift outside any row', () => {
  it('shifts the root of a scalar (key) schema: a slot not computed yet is never read as 0 days', () => {
    const json = { type: 'long', logicalType: 'timestamp-millis' };
    const s = schema(json);
    const p = compilePlan(s.type, policy([{ name: 'when', match: { type: ['timestamp-millis'] }, action: 'date-shift' }]), { envelope: 'none', schemaJson: json });
    const at = 1_700_000_000_000;
    expect(maskRecord(p, at, keys).value).not.toBe(at);
    expect(s.type.fromBuffer(maskEncoded(p, s.type.toBuffer(at), keys).bytes)).not.toBe(at);
  });
});

describe('free-text envelope fields (Debezium source.query)', () => {
  it('are scrubbed with every detector by default (engine and reference masker agree)', () => {
    const p = debezium(cdc, policy(rowRules));
    const out = maskBoth(cdc, p, envelope());
    const query = (out.value['source'] as Record<string, unknown>)['query'] as string;
    for (const raw of RAW_PII) {
      expect(query).not.toContain(raw);
      expect(out.bytes.includes(Buffer.from(raw))).toBe(false);
    }
    expect(query).toBe("INSERT INTO customers (id, email, phone, card) VALUES (1001, '[EMAIL]', '[PHONE]', '[CREDIT_CARD]')");
    expect(out.fields).toContainEqual({ path: 'source.query', action: 'scrub', rule: ENVELOPE_FREE_TEXT_RULE });
    expect(p.warnings.map((w) => w.message)).toContain('field source.query is free text in the Debezium envelope: scrubbed (envelope.freeText: scrub)');
  });

  it('are scrubbed when the query is a plain (non-nullable) string too, and a null query stays null', () => {
    const plain = variant((src) => {
      const q = src.find((f) => f['name'] === 'query')!;
      q['type'] = 'string';
      delete q['default'];
    });
    const out = maskBoth(plain, debezium(plain, policy(rowRules)), envelope());
    expect((out.value['source'] as Record<string, unknown>)['query']).not.toContain('jane@acme.com');
    const none = maskBoth(cdc, debezium(cdc, policy(rowRules)), envelope({ source: source({ query: null }) }));
    expect((none.value['source'] as Record<string, unknown>)['query']).toBeNull();
    expect(none.fields.map((f) => f.path)).not.toContain('source.query');
  });

  it('are redacted with envelope.freeText: redact', () => {
    const p = debezium(cdc, policy(rowRules, { envelope: { freeText: 'redact' } }));
    const out = maskBoth(cdc, p, envelope());
    expect((out.value['source'] as Record<string, unknown>)['query']).toBe('[REDACTED]');
    expect(out.fields).toContainEqual({ path: 'source.query', action: 'redact', rule: ENVELOPE_FREE_TEXT_RULE });
  });

  it('are kept, as an explicit decision, with envelope.freeText: keep', () => {
    const p = debezium(cdc, policy(rowRules, { envelope: { freeText: 'keep' } }));
    const out = maskBoth(cdc, p, envelope());
    expect((out.value['source'] as Record<string, unknown>)['query']).toBe(QUERY);
    expect(p.decisions).toContainEqual({ path: 'source.query', action: 'keep', rule: ENVELOPE_FREE_TEXT_RULE });
    expect(out.fields).toContainEqual({ path: 'source.query', action: 'keep', rule: ENVELOPE_FREE_TEXT_RULE });
    expect(p.warnings.map((w) => w.message)).toContain('field source.query is free text in the Debezium envelope: passes through unmasked (envelope.freeText: keep)');
  });

  it('follow tags and rules instead when tagged', () => {
    const tagged = variant((src) => {
      src.find((f) => f['name'] === 'query')!['confluent:tags'] = ['PII', 'SQL'];
    });
    const p = debezium(tagged, policy([...rowRules, { name: 'sql', match: { tags: ['SQL'] }, action: 'redact', params: { replacement: '-- query removed' } }], { envelope: { freeText: 'keep' } }));
    const out = maskBoth(tagged, p, envelope());
    expect((out.value['source'] as Record<string, unknown>)['query']).toBe('-- query removed');
    expect(out.fields).toContainEqual({ path: 'source.query', action: 'redact', rule: 'sql' });
    expect(p.warnings.map((w) => w.message)).toContain('field source.query is tagged PII, SQL in the envelope: rule "sql" (redact)');
    // Tagged but no rule: onUnmatchedSensitive, not envelope.freeText: keep.
    const unmatched = debezium(tagged, policy(rowRules, { envelope: { freeText: 'keep' } }));
    expect(unmatched.decisions).toContainEqual({ path: 'source.query', action: 'redact', rule: UNMATCHED_RULE });
  });

  it('are only source.query of a Debezium envelope: a query field elsewhere, or with envelope none, is not free text', () => {
    const p = plan(cdc, policy(rowRules));
    expect(p.decisions.map((d) => d.path)).not.toContain('source.query');
    const fields = discoverFields(cdc.type, { schemaJson: cdc.json, envelope: 'debezium' });
    expect(fields.filter((f) => f.freeText).map((f) => f.path)).toEqual(['source.query']);
    expect(fields.find((f) => f.path === 'source.email')).toMatchObject({ maskable: false, freeText: false, tags: ['PII', 'EMAIL'] });
  });
});

describe('untagged envelope fields', () => {
  const greedy = policy([
    ...rowRules,
    { name: 'strings', match: { type: ['string'] }, action: 'redact' },
    { name: 'longs', match: { type: ['long'] }, action: 'hash' },
    { name: 'any-name', match: { name: '.*' }, action: 'mask' },
    { name: 'everything', match: { path: '**' }, action: 'redact' },
  ]);

  it('are byte-identical even with type, name and ** rules (only tagged envelope fields are masked by rules)', () => {
    const p = debezium(cdc, greedy);
    // Rows and tagged fields null, query null: nothing to mask, every byte must come out as it went in.
    const record = envelope({ after: null, source: source({ email: null, query: null }), transaction: { id: 'tx-77', user: null, total_order: 3, data_collection_order: 2 } });
    const body = cdc.type.toBuffer(record);
    expect(maskEncoded(p, body, keys).bytes.equals(body)).toBe(true);
    expect(cdc.type.toBuffer(maskRecord(p, cdc.type.fromBuffer(body), keys).value).equals(body)).toBe(true);

    const out = maskBoth(cdc, p, envelope());
    const input = envelope();
    expect(out.value['op']).toBe('c');
    expect(out.value['ts_ms']).toBe(input['ts_ms']);
    const src = out.value['source'] as Record<string, unknown>;
    const { email: _e, query: _q, ...untagged } = source();
    expect(src).toMatchObject(untagged);
    expect((out.value['transaction'] as Record<string, unknown>)).toMatchObject({ id: 'tx-77', total_order: 1, data_collection_order: 1 });
    expect(p.decisions.map((d) => d.path).filter((path) => !path.startsWith('before.') && !path.startsWith('after.')))
      .toEqual(['source.email', 'source.query', 'transaction.user']);
  });

  it('stay untouched in the example CDC schema (no tags there): decisions cover before/after only', () => {
    const s = exampleSchema();
    const p = debezium(s, policy([{ name: 'strings', match: { type: ['string'] }, action: 'hash' }, { name: 'everything', match: { path: '**' }, action: 'redact' }]));
    expect(p.decisions.length).toBeGreaterThan(0);
    expect(p.decisions.every((d) => d.path.startsWith('before.') || d.path.startsWith('after.'))).toBe(true);
  });

  it('explain why a rule matching only untagged envelope fields masks nothing', () => {
    const a = analyzePlan(cdc.type, policy([...rowRules, { name: 'connector', match: { path: 'source.connector' }, action: 'redact' }, { name: 'sql', match: { name: 'query' }, action: 'redact' }]), { envelope: 'debezium', schemaJson: cdc.json });
    const messages = a.warnings.map((w) => w.message);
    expect(messages).toContain('rules[2] "connector" matches no maskable field of this schema (it matches untagged envelope field(s) source.connector, which rules never touch: only tagged envelope fields are masked by rules)');
    expect(messages.find((m) => m.startsWith('rules[3] "sql"'))).toContain('envelope.freeText decides free text such as source.query');
  });
});

describe('policy section envelope', () => {
  it('defaults to freeText: scrub', () => {
    expect(policy([]).envelope).toEqual({ freeText: 'scrub' });
    expect(policy([], { envelope: {} }).envelope).toEqual({ freeText: 'scrub' });
  });

  it('rejects unknown keys and values with their path', () => {
    const err = thrown(() => parsePolicy(policyDoc([], { envelope: { freeText: 'drop', query: 'keep' } }), 'policies/p.yaml')) as PolicyValidationError;
    expect(err).toBeInstanceOf(PolicyValidationError);
    const issues = err.issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues).toContain('envelope.query: unknown key');
    expect(issues.some((i) => i.startsWith('envelope.freeText: '))).toBe(true);
    expect(thrown(() => parsePolicy(policyDoc([], { envelope: 'scrub' }), 'p')).message).toContain('envelope: Expected object');
  });
});
