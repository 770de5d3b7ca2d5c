import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compilePlan, discoverFields, maskEncoded, maskRecord } from '../../../src/masking/index.js';
import { exampleSchema, fixtureSchema, keyRing, plan, policy, schema, thrown } from './support.js';

const keys = keyRing();
const allTypes = fixtureSchema('all-types.avsc');

function sampleAllTypes(): Record<string, unknown> {
  return {
    id: 1, email: 'jane@acme.com', nick: 'jj', code: 77, flag: true, score: 5, ratio: 0.5, amount: 12.5,
    token: Buffer.from('tok'), digest: Buffer.from('12345678'), color: 'RED', born: 7000, seen_ms: 1_700_000_000_000,
    seen_us: 1_700_000_000_000_000, seen_iso: '2024-05-01T10:00:00Z', price: Buffer.from([1, 2]),
    ref: '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f', phones: ['+1 415 555 0100', '+1 415 555 0101'],
    props: { a: 'x', b: null }, contacts: [{ kind: 'home', value: 'v1' }], either: { 'test.masking.A': { a: 'secret-a' } }, plain: 'hello',
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('maskRecord', () => {
  const p = plan(allTypes, policy([
    { name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { entityPath: 'id' } },
    { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } },
    { name: 'phones', match: { tags: ['PHONE'] }, action: 'pseudonymize', params: { format: 'phone' } },
    { name: 'code', match: { tags: ['CODE'] }, action: 'hash' },
  ]));

  it('masks every type, returns a valid new value and never mutates the input', () => {
    const input = deepFreeze(sampleAllTypes());
    const before = avro.Type.forSchema(allTypes.json as avro.Schema).toBuffer(input);
    const out = maskRecord(p, input, keys).value as Record<string, unknown>;
    expect(allTypes.type.isValid(out)).toBe(true);
    expect(allTypes.type.toBuffer(input).equals(before)).toBe(true);
    expect(out).toMatchObject({ id: 1, plain: 'hello', nick: '[REDACTED]', flag: false, score: 0, color: 'GREEN', either: { 'test.masking.A': { a: '[REDACTED]' } } });
    expect(out['digest']).toEqual(Buffer.alloc(8));
    expect(out['props']).toEqual({ a: '[REDACTED]', b: null });
    expect(out['contacts']).toEqual([{ kind: 'home', value: '[REDACTED]' }]);
    expect(typeof out['code']).toBe('number');
    expect(out['code']).not.toBe(77);
    expect((out['phones'] as string[]).every((x) => /^\+1 \d{3}-555-\d{4}$/.test(x))).toBe(true);
  });

  it('reports only the decisions applied to present, non-null values', () => {
    const input = { ...sampleAllTypes(), nick: null, code: null, phones: [], either: { 'test.masking.B': { b: 3 } } };
    const paths = maskRecord(p, input, keys).fields.map((f) => f.path);
    expect(paths).toContain('email');
    expect(paths).not.toContain('nick');
    expect(paths).not.toContain('code');
    expect(paths).not.toContain('phones[]');
    expect(paths).not.toContain('either.a');
  });

  it('handles wrapped unions (as avsc decodes ambiguous unions)', () => {
    const s = schema({ type: 'record', name: 'W', fields: [{ name: 'n', type: ['null', 'int', 'long'], 'confluent:tags': ['PII'] }] });
    expect(avro.Type.forSchema(['null', 'int', 'long']).typeName).toBe('union:wrapped');
    const wp = plan(s, policy([{ name: 'h', match: { tags: ['PII'] }, action: 'hash' }]));
    const decoded = s.type.fromBuffer(s.type.toBuffer({ n: { long: 5 } }));
    const out = maskRecord(wp, decoded, keys).value as { n: { long: number } };
    expect(Object.keys(out.n)).toEqual(['long']);
    expect(out.n.long).not.toBe(5);
    expect(maskRecord(wp, { n: null }, keys).value).toEqual({ n: null });
  });

  it('masks a primitive key schema with envelope none', () => {
    const key = schema('long');
    const kp = compilePlan(key.type, policy([{ name: 'ids', match: { type: 'long' }, action: 'hash' }]), { envelope: 'none', schemaJson: '"long"' });
    expect(kp.decisions).toEqual([{ path: '$', action: 'hash', rule: 'ids' }]);
    const out = maskRecord(kp, 42, keys);
    expect(out.value).not.toBe(42);
    expect(key.type.isValid(out.value)).toBe(true);
  });

  it('fails with MASKER_RECORD_SHAPE when an untouched field is not a value of its type, without the value', () => {
    const err = thrown(() => maskRecord(p, { ...sampleAllTypes(), plain: 12345 }, keys));
    expect(err.code).toBe('MASKER_RECORD_SHAPE');
    expect(err.message).toContain('plain');
    expect(err.message).not.toContain('12345');
  });

  it('fails with MASKER_RECORD_SHAPE when the value is not shaped like the schema', () => {
    expect(thrown(() => maskRecord(p, 'not a record', keys)).code).toBe('MASKER_RECORD_SHAPE');
    expect(thrown(() => maskRecord(p, { ...sampleAllTypes(), contacts: 'nope' }, keys)).message).toContain('contacts');
  });

  it('masks the Debezium example end to end and keeps metadata byte-identical', () => {
    const s = exampleSchema();
    const dp = plan(s, policy([{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'hash' }]), { envelope: 'debezium' });
    const source = { version: '2', connector: 'pg', name: 'db', ts_ms: 1, snapshot: 'false', db: 'd', sequence: null, schema: 's', table: 't', txId: null, lsn: null, xmin: null };
    const input = { before: null, after: null, source, op: 'd', ts_ms: 5, transaction: null };
    const out = maskRecord(dp, input, keys);
    expect(s.type.toBuffer(out.value).equals(s.type.toBuffer(input))).toBe(true);
    expect(out.fields).toEqual([]);
  });
});

describe('discoverFields', () => {
  it('lists leaves with types, logical types, inherited tags and nullability', () => {
    const fields = discoverFields(allTypes.type, { schemaJson: allTypes.json });
    const byPath = new Map(fields.map((f) => [f.path, f]));
    expect(byPath.get('born')).toMatchObject({ type: 'int', logicalType: 'date', tags: ['PII', 'DATE'], nullable: false });
    expect(byPath.get('code')).toMatchObject({ type: 'string|long', nullable: true });
    expect(byPath.get('props{}')).toMatchObject({ type: 'string', nullable: true, tags: ['PII'] });
    expect(byPath.get('contacts[].value')?.tags).toEqual(['PII']);
    expect(byPath.get('contacts[].kind')?.tags).toEqual([]);
    expect(byPath.get('either.a')?.tags).toEqual(['PII']);
  });

  it('marks Debezium metadata as not maskable', () => {
    const s = exampleSchema();
    const fields = discoverFields(s.type, { schemaJson: s.json, envelope: 'debezium' });
    expect(fields.find((f) => f.path === 'source.db')?.maskable).toBe(false);
    expect(fields.find((f) => f.path === 'after.address.street')).toMatchObject({ maskable: true, tags: ['PII', 'ADDRESS'] });
  });
});

describe('record shape errors', () => {
  it('name paths with [] and {} instead of indexes and map keys (keys can be data)', () => {
    const s = schema({
      type: 'record', name: 'M', fields: [
        { name: 'byEmail', type: { type: 'map', values: { type: 'record', name: 'V', fields: [{ name: 'n', type: 'int' }] } } },
        { name: 'list', type: { type: 'array', items: 'string' } },
        { name: 'secret', type: 'string', 'confluent:tags': ['PII'] },
      ],
    });
    const p = plan(s, policy([]));
    const err = thrown(() => maskRecord(p, { byEmail: { 'jane@acme.com': { n: 'x' } }, list: ['a', 5], secret: 's' }, keys));
    expect(err.code).toBe('MASKER_RECORD_SHAPE');
    expect(err.message).toContain('byEmail{}.n');
    expect(err.message).toContain('list[]');
    expect(err.message).not.toContain('jane@acme.com');
  });
});

describe('map keys are data', () => {
  const s = schema({ type: 'record', name: 'P', fields: [{ name: 'm', type: { type: 'map', values: 'string' }, 'confluent:tags': ['PII'] }] });
  const input = { m: JSON.parse('{"__proto__": "secret", "ok": "x"}') as Record<string, string> };

  it('masks a "__proto__" map key\'s value like any other on the byte path', () => {
    const out = maskEncoded(plan(s, policy([])), s.type.toBuffer(input), keys).bytes;
    expect(out.includes(Buffer.from('secret'))).toBe(false);
    expect(out.includes(Buffer.from('__proto__'))).toBe(true);
  });

  it('refuses a "__proto__" map key in a decoded record, which a decoded map cannot hold as an entry', () => {
    const err = thrown(() => maskRecord(plan(s, policy([])), input, keys));
    expect(err.code).toBe('MASKER_RECORD_SHAPE');
    expect(err.message).toContain('m{}');
    expect(err.message).not.toContain('secret');
  });
});

describe('maskRecord gives back the caller\'s values where masking left a leaf as it was', () => {
  // Through Avro bytes a float rounds to 32 bits, avsc's long codec is inexact below -2^52, and a lone
  // surrogate becomes U+FFFD: JSON lines and the HTTP API print the caller's values, as before.
  const s = schema({
    type: 'record', name: 'L', fields: [
      { name: 'price', type: 'float' },
      { name: 'maybe', type: ['null', 'float'] },
      { name: 'big', type: 'long' },
      { name: 'text', type: 'string' },
      { name: 'secret', type: 'float', 'confluent:tags': ['PII'] },
    ],
  });
  const input = { price: 19.99, maybe: 0.1, big: -4_503_599_627_370_497, text: 'a\ud800b', secret: 3.3 };

  it('keeps unmasked floats, longs below -2^52 and strings with lone surrogates as given', () => {
    const out = maskRecord(plan(s, policy([])), input, keys).value as Record<string, unknown>;
    expect(out).toEqual({ ...input, secret: 0 });
    expect(s.type.toString(out)).toBe('{"price":19.99,"maybe":{"float":0.1},"big":-4503599627370497,"text":"a\\ud800b","secret":0}');
  });

  it('does so in schemas without floats too (longs below -2^52, lone surrogates in short and long strings)', () => {
    const noFloats = schema({ type: 'record', name: 'N', fields: [{ name: 'big', type: 'long' }, { name: 'a', type: 'string' }, { name: 'b', type: 'string' }] });
    const value = { big: -9_007_199_254_740_990, a: 'x\udc00', b: `${'y'.repeat(300)}\ud800` };
    expect(maskRecord(plan(noFloats, policy([])), value, keys).value).toEqual(value);
  });

  it('gives a masked float as the shortest decimal of its 32-bit value', () => {
    const p = plan(s, policy([{ name: 'r', match: { tags: ['PII'] }, action: 'redact', params: { replacement: 1.1 } }]));
    expect((maskRecord(p, input, keys).value as Record<string, unknown>)['secret']).toBe(1.1);
  });
});
