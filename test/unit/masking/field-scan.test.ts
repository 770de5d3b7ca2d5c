import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { FieldReport, FieldScanner, Policy } from '../../../src/masking/index.js';
import {
  compileFieldScanner, FieldScanAccumulator, fieldNameHints, fieldVerdict, leafNameHints, parsePolicy, summarizeFields,
  suggestPolicy, suggestTags,
} from '../../../src/masking/index.js';
import type { ScalarNode } from '../../../src/masking/schema-tree.js';
import { exampleSchema, policy, schema, thrown, type LoadedSchema } from './support.js';

// Planted values: none of them may ever appear in a report or a suggestion.
const PLANTED = {
  email: 'planted.person@example.org',
  email2: 'second.planted@example.net',
  phone: '+1 415-555-0142',
  ssn: '123-45-6789',
  ip: '198.51.100.77',
  card: '4111 1111 1111 1111',
};

const plain = schema({
  type: 'record',
  name: 'Customer',
  namespace: 'scan.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'contact_email', type: ['null', 'string'], default: null },
    { name: 'notes', type: ['null', 'string'], default: null },
    { name: 'attributes', type: { type: 'map', values: 'string' } },
    { name: 'logins', type: { type: 'array', items: 'string' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['ACTIVE', 'CLOSED'] } },
    { name: 'email_verified', type: 'boolean' },
    { name: 'tier', type: 'string' },
    { name: 'phone', type: ['null', 'long'], default: null },
  ],
});

function plainRecord(i: number): Record<string, unknown> {
  return {
    id: i,
    email: PLANTED.email,
    contact_email: i % 2 === 0 ? null : 'n/a',
    notes: i % 2 === 0 ? `call ${PLANTED.phone} or write to ${PLANTED.email2}` : 'no contact requested',
    attributes: { ssn: PLANTED.ssn, segment: 'b2c' },
    logins: [PLANTED.ip],
    status: 'ACTIVE',
    email_verified: true,
    tier: 'gold',
    phone: 4155550142,
  };
}

function scanOf(s: LoadedSchema, records: readonly unknown[], options: { policy?: Policy; disabledRules?: ReadonlySet<string>; envelope?: 'none' | 'debezium' } = {}): { scanner: FieldScanner; fields: FieldReport[] } {
  const scanner = compileFieldScanner(s.type, {
    schemaJson: s.json,
    envelope: options.envelope ?? 'none',
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.disabledRules === undefined ? {} : { disabledRules: options.disabledRules }),
  });
  const acc = new FieldScanAccumulator();
  acc.addSchema(scanner);
  for (const r of records) acc.addRecord(scanner, scanner.decode(s.type.toBuffer(r)));
  return { scanner, fields: acc.fields() };
}

function field(fields: readonly FieldReport[], path: string): FieldReport {
  const f = fields.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no field ${path} in ${fields.map((x) => x.path).join(', ')}`);
  return f;
}

function expectNoPlantedValue(text: string): void {
  for (const v of Object.values(PLANTED)) expect(text).not.toContain(v);
}

describe('field-name hints', () => {
  it.each([
    ['email', ['EMAIL']], ['customerEmail', ['EMAIL']], ['e_mail', ['EMAIL']], ['emailAddress', ['EMAIL']], ['EMAIL_ADDR', ['EMAIL']],
    ['phone', ['PHONE']], ['mobile_number', ['PHONE']], ['tel', ['PHONE']], ['hotel', []], ['phoneNumber', ['PHONE']],
    ['ssn', ['SSN']], ['social_security_number', ['SSN']], ['SSN4', ['SSN']],
    ['dob', ['DOB']], ['dateOfBirth', ['DOB']], ['birth_date', ['DOB']],
    ['name', ['NAME']], ['first_name', ['FIRST_NAME']], ['lastName', ['LAST_NAME']], ['surname', ['LAST_NAME']],
    ['file_name', []], ['hostName', []], ['product_name', []], ['user_name', ['USERNAME']],
    ['address', ['ADDRESS']], ['street', ['ADDRESS']], ['address_line1', ['ADDRESS']], ['mac_address', []],
    ['ipAddress', ['IP']], ['last_login_ip', ['IP']], ['IPAddress', ['IP']], ['client_ipv4', ['IP']],
    ['zip', ['POSTAL_CODE']], ['zipCode', ['POSTAL_CODE']], ['postal_code', ['POSTAL_CODE']],
    ['ship_date', []], ['tip_amount', []], ['zipper', []], ['description', []], ['shipping', []],
    ['iban', ['IBAN']], ['IBAN', ['IBAN']], ['card_number', ['CREDIT_CARD']], ['passport_no', ['PASSPORT']],
    ['driver_license', ['LICENSE']], ['latitude', ['LOCATION']],
    ['email_verified', []], ['phone_type', []], ['address_status', []], ['email_count', []],
  ])('%s → %j', (name, kinds) => {
    expect(fieldNameHints(name)).toEqual(kinds);
  });

  it('keeps only the kinds a field of that type can hold', () => {
    const s = (scalar: ScalarNode['scalar'], logicalType?: string): ScalarNode => ({ kind: 'scalar', scalar, branchName: scalar, ...(logicalType === undefined ? {} : { logicalType }) });
    expect(leafNameHints('email_address', [s('string')])).toEqual(['EMAIL']);
    expect(leafNameHints('email', [s('boolean')])).toEqual([]);
    expect(leafNameHints('email', [s('long')])).toEqual([]);
    expect(leafNameHints('phone', [s('long')])).toEqual(['PHONE']);
    expect(leafNameHints('birth_date', [s('int', 'date')])).toEqual(['DOB']);
    expect(leafNameHints('name', [s('enum')])).toEqual([]);
    expect(leafNameHints('email', [s('string', 'uuid')])).toEqual([]);
    expect(leafNameHints(undefined, [s('string')])).toEqual([]);
  });
});

describe('verdicts', () => {
  it('covered beats evidence; evidence without cover is pii-not-covered; else clean', () => {
    expect(fieldVerdict({ by: 'rule', rule: 'r', action: 'redact' }, 5, ['EMAIL'])).toBe('covered');
    expect(fieldVerdict({ by: 'tags', tags: ['PII'], outcome: 'redact' }, 0, [])).toBe('covered');
    expect(fieldVerdict({ by: 'none' }, 1, [])).toBe('pii-not-covered');
    expect(fieldVerdict({ by: 'none' }, 0, ['NAME'])).toBe('pii-not-covered');
    expect(fieldVerdict({ by: 'none' }, 0, [])).toBe('clean');
  });
});

describe('field scan over decoded records', () => {
  const records = Array.from({ length: 10 }, (_, i) => plainRecord(i));

  it('reports tags, coverage, detector hits per detector, hints and verdicts per leaf', () => {
    const { fields } = scanOf(plain, records);
    expect(fields.map((f) => f.path)).toEqual(['id', 'email', 'contact_email', 'notes', 'attributes{}', 'logins[]', 'status', 'email_verified', 'tier', 'phone']);
    expect(field(fields, 'email')).toMatchObject({ tags: ['PII', 'EMAIL'], coverage: { by: 'tags', outcome: 'redact' }, verdict: 'covered', values: 10 });
    // Free text: findings inside other text, two detectors, in the 5 even records only.
    expect(field(fields, 'notes')).toMatchObject({
      coverage: { by: 'none' }, values: 10, scanned: 10, verdict: 'pii-not-covered', kind: 'FREE_TEXT',
      hits: { values: 5, byDetector: { email: 5, phone: 5 }, wholeValue: 0, inText: 5 },
    });
    // An untagged map: each value counts; only the SSN values hit, as whole values.
    expect(field(fields, 'attributes{}')).toMatchObject({ values: 20, scanned: 20, verdict: 'pii-not-covered', kind: 'SSN', hits: { values: 10, byDetector: { ssn: 10 }, wholeValue: 10 } });
    expect(field(fields, 'logins[]')).toMatchObject({ values: 10, verdict: 'pii-not-covered', kind: 'IP', hits: { byDetector: { ipv4: 10 } } });
    // A name hint alone is enough; 'n/a' values have no findings.
    expect(field(fields, 'contact_email')).toMatchObject({ values: 5, hits: { values: 0 }, nameHints: ['EMAIL'], verdict: 'pii-not-covered', kind: 'EMAIL' });
    expect(field(fields, 'phone')).toMatchObject({ type: 'long', nullable: true, scanned: 0, nameHints: ['PHONE'], verdict: 'pii-not-covered' });
    for (const clean of ['id', 'status', 'email_verified', 'tier']) expect(field(fields, clean).verdict).toBe('clean');
    expect(field(fields, 'status').scanned).toBe(0); // enum symbols are not scanned
    expect(summarizeFields(fields)).toEqual({ fields: 10, covered: 1, piiNotCovered: 5, clean: 4 });
  });

  it('never returns a sampled value', () => {
    const { fields } = scanOf(plain, records);
    expectNoPlantedValue(JSON.stringify(fields));
  });

  it('uses the policy: rules cover, toggled-off rules do not, tags follow onUnmatchedSensitive', () => {
    const p = policy([
      { name: 'notes', match: { path: 'notes' }, action: 'scrub' },
      { name: 'attrs', match: { path: 'attributes' }, action: 'redact' },
    ], { onUnmatchedSensitive: 'quarantine' });
    const { fields } = scanOf(plain, records, { policy: p, disabledRules: new Set(['attrs']) });
    expect(field(fields, 'notes')).toMatchObject({ coverage: { by: 'rule', rule: 'notes', action: 'scrub' }, verdict: 'covered' });
    expect(field(fields, 'attributes{}')).toMatchObject({ coverage: { by: 'none' }, verdict: 'pii-not-covered' });
    expect(field(fields, 'email').coverage).toEqual({ by: 'tags', tags: ['PII', 'EMAIL'], outcome: 'quarantine' });
  });

  it('without a policy only the default sensitive tag [PII] covers', () => {
    const s = schema({ type: 'record', name: 'T', fields: [{ name: 'a', type: 'string', 'confluent:tags': ['EMAIL'] }, { name: 'b', type: 'string', 'confluent:tags': ['PII'] }] });
    const { fields } = scanOf(s, []);
    expect(field(fields, 'a').coverage).toEqual({ by: 'none' });
    expect(field(fields, 'b').coverage.by).toBe('tags');
  });

  it('walks wrapped unions too', () => {
    const wrapped = schema(plain.json, { wrapUnions: true });
    const { fields } = scanOf(wrapped, records.map((r) => ({ ...r, notes: r['notes'] === null ? null : { string: r['notes'] }, contact_email: r['contact_email'] === null ? null : { string: r['contact_email'] }, phone: { long: r['phone'] } })));
    expect(field(fields, 'notes').hits).toMatchObject({ values: 5, byDetector: { email: 5, phone: 5 } });
    expect(field(fields, 'phone').values).toBe(10);
  });

  it('refuses bodies that do not frame as one record, without decoding them', () => {
    const scanner = compileFieldScanner(plain.type, { schemaJson: plain.json, envelope: 'none' });
    const good = plain.type.toBuffer(plainRecord(1));
    expect(thrown(() => scanner.decode(Buffer.concat([good, Buffer.from([0])]))).code).toBe('MASKER_DECODE');
    expect(thrown(() => scanner.decode(good.subarray(0, good.length - 3))).code).toBe('MASKER_DECODE');
    // id 0, a 1-character email, then a map claiming 2^29 entries: framing refuses it before avsc allocates.
    const poison = Buffer.from([0x00, 0x02, 0x41, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x04]);
    const err = thrown(() => scanner.decode(poison));
    expect(err.code).toBe('MASKER_DECODE');
  });
});

describe('Debezium envelopes', () => {
  const cdc = exampleSchema();
  const cdcType = cdc.type;
  const lines = [
    '{"before":null,"after":{"dbserver1.inventory.customers.Value":ROW},"source":SOURCE,"op":"c","ts_ms":null,"transaction":null}',
  ];
  const row = (tier: string): string => JSON.stringify({
    id: 1, name: 'N', email: 'e', phone: null, ssn: null, birth_date: null, notes: null, address: null, bank_account: null, last_login_ip: null,
    status: 'ACTIVE', tier, created_at: 0, updated_at: 0, loyalty_points: 0, credit_limit: '\u0000', balance: 0, marketing_opt_in: false,
    preferred_language: `reach me at ${PLANTED.email2}`, country_code: 'US', referral_code: null, account_manager_id: null, labels: [], attributes: {},
    external_ref: '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f', row_version: 1, deleted: false,
  });
  const source = JSON.stringify({ version: '2', connector: 'postgresql', name: 'dbserver1', ts_ms: 0, snapshot: { string: 'false' }, db: PLANTED.email, sequence: null, schema: 'public', table: 'customers', txId: null, lsn: null, xmin: null });

  it('reports row fields once (before/after merged) plus envelope fields, with envelope coverage rules', () => {
    const record = cdcType.fromString(lines[0]!.replace('ROW', row('gold')).replace('SOURCE', source));
    const update = { ...(record as Record<string, unknown>), before: (record as Record<string, unknown>)['after'], op: 'u' };
    const { fields } = scanOf(cdc, [record, update], { envelope: 'debezium', policy: parsePolicy({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'p', rules: [] }, 'p') });
    const lang = field(fields, 'preferred_language');
    expect(lang).toMatchObject({ scope: 'row', paths: ['before.preferred_language', 'after.preferred_language'], values: 3, verdict: 'pii-not-covered', hits: { values: 3, inText: 3 } });
    expect(fields.filter((f) => f.path === 'email')).toHaveLength(1);
    expect(field(fields, 'email')).toMatchObject({ scope: 'row', verdict: 'covered' });
    // Envelope metadata: named by Debezium (no name hints: source.name is the connector's name) …
    expect(field(fields, 'source.name')).toMatchObject({ scope: 'envelope', nameHints: [], verdict: 'clean' });
    // … but detector hits count, and only tags could cover it.
    expect(field(fields, 'source.db')).toMatchObject({ scope: 'envelope', verdict: 'pii-not-covered', kind: 'EMAIL' });
    expectNoPlantedValue(JSON.stringify(fields));
  });

  it('counts a known free-text envelope field as covered by envelope.freeText', () => {
    const s = schema(JSON.parse(JSON.stringify(cdc.json).replace('{"name":"xmin","type":["null","long"],"default":null}', '{"name":"xmin","type":["null","long"],"default":null},{"name":"query","type":["null","string"],"default":null}')));
    const { fields } = scanOf(s, [], { envelope: 'debezium' });
    expect(field(fields, 'source.query').coverage).toEqual({ by: 'envelope.freeText', mode: 'scrub' });
  });
});

describe('suggestions', () => {
  const records = Array.from({ length: 10 }, (_, i) => plainRecord(i));
  const base = policy([{ name: 'keep-tier', match: { path: 'tier' }, action: 'keep', params: { reason: 'product tier' } }]);

  it('--suggest policy: rules that parse, compile, cover every uncovered field, and keep the base rules', () => {
    const { fields } = scanOf(plain, records, { policy: base });
    const suggestion = suggestPolicy(fields, { base, schemas: [{ type: plain.type, json: plain.json, envelope: 'none' }] });
    const parsed = parsePolicy(JSON.parse(JSON.stringify(suggestion.doc)), 'suggestion');
    expect(parsed.name).toBe('test');
    expect(parsed.rules[0]?.name).toBe('keep-tier');
    const byPath = new Map(suggestion.added.map((a) => [a.path, a]));
    expect(byPath.get('notes')?.action).toBe('scrub');
    expect(parsed.rules.find((r) => r.name === byPath.get('notes')?.rule)).toMatchObject({ action: 'scrub', params: { detectors: ['email', 'phone'] }, match: { path: ['notes'] } });
    // Half the map's values are SSNs, the rest are not: scrub them where found, do not fake every value.
    expect(parsed.rules.find((r) => r.name === byPath.get('attributes{}')?.rule)).toMatchObject({ action: 'scrub', params: { detectors: ['ssn'] } });
    expect(parsed.rules.find((r) => r.name === byPath.get('logins[]')?.rule)).toMatchObject({ action: 'pseudonymize', params: { format: 'ipv4' } });
    expect(parsed.rules.find((r) => r.name === byPath.get('contact_email')?.rule)).toMatchObject({ action: 'pseudonymize', params: { format: 'email' } });
    // pseudonymize phone needs a string: a long falls back to redact.
    expect(byPath.get('phone')?.action).toBe('redact');
    expect(suggestion.unsuggested).toEqual([]);
    // Scanning again with the suggested policy: nothing left uncovered.
    const again = scanOf(plain, records, { policy: parsed }).fields;
    expect(again.filter((f) => f.verdict === 'pii-not-covered').map((f) => f.path)).toEqual([]);
    expectNoPlantedValue(JSON.stringify(suggestion));
  });

  it('--suggest policy: whole values of several kinds → redact; one kind in nearly every value → pseudonymize', () => {
    const s = schema({ type: 'record', name: 'C', fields: [{ name: 'contact', type: 'string' }, { name: 'backup', type: 'string' }] });
    const rows = Array.from({ length: 10 }, (_, i) => ({ contact: i % 2 === 0 ? PLANTED.email : PLANTED.phone, backup: PLANTED.email2 }));
    const { fields } = scanOf(s, rows);
    const suggestion = suggestPolicy(fields, { schemas: [{ type: s.type, json: s.json, envelope: 'none' }] });
    expect(suggestion.added.map((a) => [a.path, a.action])).toEqual([['contact', 'redact'], ['backup', 'pseudonymize']]);
  });

  it('--suggest policy without a base policy starts from an empty one; envelope fields need tags', () => {
    const cdc = exampleSchema();
    const acc = new FieldScanAccumulator();
    const scanner = compileFieldScanner(cdc.type, { schemaJson: cdc.json, envelope: 'debezium' });
    acc.addSchema(scanner);
    const fields = acc.fields().map((f) => (f.path === 'source.db' ? { ...f, verdict: 'pii-not-covered' as const, kind: 'EMAIL' as const } : f));
    const suggestion = suggestPolicy(fields, { schemas: [{ type: cdc.type, json: cdc.json, envelope: 'debezium' }] });
    expect(suggestion.needTags).toEqual(['source.db']);
    const parsed = parsePolicy(suggestion.doc, 'suggestion');
    expect(parsed.name).toBe('scan-suggested');
    // Name hints on the example row: tier/labels are clean, postal_code etc. are tagged through address.
    const paths = suggestion.added.map((a) => a.path);
    expect(paths).not.toContain('tier');
    expect(paths).not.toContain('email');
  });

  it('--suggest tags: adds ["PII", KIND] to the uncovered fields, once per named record, and then they are covered', () => {
    const { fields } = scanOf(plain, records);
    const { json, tagged } = suggestTags(plain.json, fields);
    expect(tagged.map((t) => t.path).sort()).toEqual(['attributes{}', 'contact_email', 'logins[]', 'notes', 'phone']);
    const fieldsJson = (json as { fields: { name: string; 'confluent:tags'?: string[] }[] }).fields;
    expect(fieldsJson.find((f) => f.name === 'notes')?.['confluent:tags']).toEqual(['PII', 'FREE_TEXT']);
    expect(fieldsJson.find((f) => f.name === 'attributes')?.['confluent:tags']).toEqual(['PII', 'SSN']);
    expect(fieldsJson.find((f) => f.name === 'email')?.['confluent:tags']).toEqual(['PII', 'EMAIL']);
    expect((plain.json as { fields: { name: string; 'confluent:tags'?: string[] }[] }).fields.find((f) => f.name === 'notes')?.['confluent:tags']).toBeUndefined();
    const retagged = schema(json);
    const again = scanOf(retagged, records).fields;
    expect(again.filter((f) => f.verdict !== 'covered' && f.verdict !== 'clean')).toEqual([]);

    const cdc = exampleSchema();
    const scanner = compileFieldScanner(cdc.type, { schemaJson: cdc.json, envelope: 'debezium' });
    const acc = new FieldScanAccumulator();
    acc.addSchema(scanner);
    const lang = acc.fields().map((f) => (f.path === 'preferred_language' ? { ...f, verdict: 'pii-not-covered' as const, kind: 'FREE_TEXT' as const } : f));
    const out = JSON.stringify(suggestTags(cdc.json, lang).json);
    expect(out.match(/"name":"preferred_language","type":"string","confluent:tags":\["PII","FREE_TEXT"\]/g)).toHaveLength(1);
    expect(avro.Type.forSchema(JSON.parse(out) as avro.Schema)).toBeDefined();
  });
});
