import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CompiledPlan } from '../../../src/masking/index.js';
import { maskEncoded, parsePolicy } from '../../../src/masking/index.js';
import { MaskerError } from '../../../src/errors.js';
import { referenceMaskBody, wrappedType } from '../../property/reference-masker.js';
import type { LoadedSchema } from './support.js';
import { exampleSchema, fixtureSchema, keyRing, plan, policy, schema, thrown } from './support.js';

const keys = keyRing();
const ROOT = new URL('../../../', import.meta.url);

/** What the reference masker gives (decode → mask the decoded value → encode). The engine must give the same bytes. */
function viaReference(p: CompiledPlan, s: LoadedSchema, body: Buffer): Buffer {
  return referenceMaskBody(p, wrappedType(s.json), body, keys).bytes;
}

/** Avro zigzag varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return Buffer.from(out);
}

function avroString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([varint(bytes.length), bytes]);
}

function decodeError(fn: () => unknown): MaskerError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(MaskerError);
  return err as MaskerError;
}

describe('maskEncoded (the byte path)', () => {
  const cdc = exampleSchema();
  const row = (i: number): Record<string, unknown> => ({
    id: 100 + i, name: `Jane Doe ${i}`, email: `jane${i}@acme.com`, phone: '+1 415 555 0100', ssn: '123-45-6789',
    birth_date: 7000 + i, notes: `call jane${i}@acme.com or 415-555-0199, card 4111 1111 1111 1111`,
    address: { street: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' },
    bank_account: 'DE89 3704 0044 0532 0130 00', last_login_ip: '192.168.0.7', status: 'ACTIVE', tier: 'gold',
    created_at: 1_600_000_000_000, updated_at: 1_700_000_000_000_000, loyalty_points: 5, credit_limit: Buffer.from([1, 2]),
    balance: 12.5, marketing_opt_in: true, preferred_language: 'en', country_code: 'US', referral_code: null,
    account_manager_id: null, labels: ['a', 'b'], attributes: { k: 'v' }, external_ref: '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f', row_version: 1, deleted: false,
  });
  const envelope = (i: number, before: boolean): Record<string, unknown> => ({
    before: before ? row(i) : null, after: { ...row(i), notes: 'changed', row_version: 2 },
    source: { version: '2.5', connector: 'postgresql', name: 'db', ts_ms: 1, snapshot: 'false', db: 'inventory', sequence: null, schema: 'public', table: 'customers', txId: 1, lsn: 2, xmin: null },
    op: before ? 'u' : 'c', ts_ms: 5, transaction: null,
  });
  const policyFile = (file: string): CompiledPlan => {
    const doc: unknown = parseYaml(readFileSync(new URL(file, ROOT), 'utf8'));
    return plan(cdc, parsePolicy(doc, file), { envelope: 'debezium' });
  };

  it('gives the bytes decode → mask → encode gives, with the same audited decisions (shipped policies, date-shift by entity)', () => {
    for (const p of [policyFile('policies/default.yaml'), policyFile('bench/engine/bench-policy.yaml')]) {
      for (let i = 0; i < 20; i++) {
        const body = cdc.type.toBuffer(envelope(i, i % 3 !== 0));
        const bytes = maskEncoded(p, body, keys);
        expect(bytes.bytes.equals(viaReference(p, cdc, body))).toBe(true);
        expect(bytes.fields).toEqual(referenceMaskBody(p, wrappedType(cdc.json), body, keys).fields);
        expect(bytes.bytes.includes(Buffer.from(`jane${i}@acme.com`))).toBe(false);
      }
    }
  });

  it('masks every Avro type as the reference masker does, byte for byte', () => {
    const allTypes = fixtureSchema('all-types.avsc');
    const p = plan(allTypes, policy([
      { name: 'dates', match: { tags: ['DATE'] }, action: 'date-shift', params: { entityPath: 'id' } },
      { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } },
      { name: 'phones', match: { tags: ['PHONE'] }, action: 'pseudonymize', params: { format: 'phone' } },
      { name: 'code', match: { tags: ['CODE'] }, action: 'hash' },
    ]));
    const record = {
      id: 1, email: 'jane@acme.com', nick: 'jj', code: 77, flag: true, score: 5, ratio: 0.5, amount: 12.5,
      token: Buffer.from('tok'), digest: Buffer.from('12345678'), color: 'RED', born: 7000, seen_ms: 1_700_000_000_000,
      seen_us: 1_700_000_000_000_000, seen_iso: '2024-05-01T10:00:00Z', price: Buffer.from([1, 2]),
      ref: '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f', phones: ['+1 415 555 0100', '+1 415 555 0101'],
      props: { a: 'x', b: null }, contacts: [{ kind: 'home', value: 'v1' }], either: { 'test.masking.A': { a: 'secret-a' } }, plain: 'hello',
    };
    const body = allTypes.type.toBuffer(record);
    expect(maskEncoded(p, body, keys).bytes.equals(viaReference(p, allTypes, body))).toBe(true);
  });

  it('rewrites a masked -0.0 (=== 0) instead of keeping its bytes: the sign is data', () => {
    const s = schema({ type: 'record', name: 'D', fields: [{ name: 'v', type: 'double', 'confluent:tags': ['PII'] }] });
    const p = plan(s, policy([{ name: 'r', match: { tags: ['PII'] }, action: 'redact' }]));
    const body = s.type.toBuffer({ v: -0 });
    const out = maskEncoded(p, body, keys).bytes;
    expect(out.equals(viaReference(p, s, body))).toBe(true);
    expect(Object.is(s.type.fromBuffer(out).v, 0)).toBe(true);
  });

  it('leaves `reserve` bytes in front for a wire-format header', () => {
    const p = policyFile('policies/default.yaml');
    const body = cdc.type.toBuffer(envelope(1, true));
    const framed = maskEncoded(p, body, keys, 5).bytes;
    expect([...framed.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
    expect(framed.subarray(5).equals(viaReference(p, cdc, body))).toBe(true);
  });

  const tagged = schema({
    type: 'record', name: 'T', fields: [
      { name: 'big', type: 'long' },
      { name: 'tags', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
      { name: 'flag', type: 'boolean' },
      { name: 'maybe', type: ['null', 'string'] },
    ],
  });
  const redact = plan(tagged, policy([{ name: 'r', match: { tags: ['PII'] }, action: 'redact' }]));
  const tail = Buffer.concat([varint(1), Buffer.from([1]), varint(1), avroString('x')]);

  it('rewrites sized array blocks (negative counts) whose items it masks, and keeps the rest', () => {
    const items = Buffer.concat([avroString('secret-one'), avroString('secret-two')]);
    const body = Buffer.concat([varint(7), varint(-2), varint(items.length), items, varint(0), tail]);
    const out = maskEncoded(redact, body, keys).bytes;
    expect(tagged.type.fromBuffer(out)).toMatchObject({ big: 7, tags: ['[REDACTED]', '[REDACTED]'], kind: 'B', flag: true, maybe: 'x' });
    expect(out.equals(viaReference(redact, tagged, body))).toBe(true);
  });

  it('grows its output past the scratch size for a large record (and stays right for the next one)', () => {
    const mask = plan(tagged, policy([{ name: 'm', match: { tags: ['PII'] }, action: 'mask', params: { keepFirst: 1 } }]));
    const items = Array.from({ length: 20_000 }, (_, i) => avroString(`secret-${i}-value`));
    const large = Buffer.concat([varint(7), varint(items.length), ...items, varint(0), tail]);
    expect(large.length).toBeGreaterThan(16 * 1024 * 8);
    expect(maskEncoded(mask, large, keys).bytes.equals(viaReference(mask, tagged, large))).toBe(true);
    const small = Buffer.concat([varint(7), varint(1), avroString('secret-x'), varint(0), tail]);
    expect(maskEncoded(mask, small, keys).bytes.equals(viaReference(mask, tagged, small))).toBe(true);
  });

  it('copies a long beyond 2^53 in a field it does not touch exactly (decoding would refuse it)', () => {
    const big = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // zigzag of 2^63 - 1
    const body = Buffer.concat([big, varint(1), avroString('secret'), varint(0), tail]);
    const out = maskEncoded(redact, body, keys).bytes;
    expect(out.subarray(0, big.length).equals(big)).toBe(true);
    expect(out.includes(Buffer.from('secret'))).toBe(false);
  });

  it('refuses bytes that do not frame as the schema says, naming the path and never a value', () => {
    const good = Buffer.concat([varint(7), varint(1), avroString('secret-value'), varint(0), tail]);
    expect(() => maskEncoded(redact, good, keys)).not.toThrow();
    const cases: [string, Buffer, string][] = [
      ['truncated', good.subarray(0, good.length - 1), 'maybe'],
      ['trailing data', Buffer.concat([good, Buffer.from([0])]), 'trailing data'],
      ['enum index', Buffer.concat([varint(7), varint(0), varint(5), Buffer.from([1]), varint(0)]), 'kind'],
      ['boolean byte', Buffer.concat([varint(7), varint(0), varint(1), Buffer.from([2]), varint(0)]), 'flag'],
      ['union index', Buffer.concat([varint(7), varint(0), varint(1), Buffer.from([1]), varint(4)]), 'maybe'],
      ['string length past the end', Buffer.concat([varint(7), varint(1), varint(400), Buffer.from('secret-value')]), 'tags[]'],
      ['block count past the end', Buffer.concat([varint(7), varint(1_000_000), avroString('secret-value')]), 'tags'],
      ['sized block whose size lies', Buffer.concat([varint(7), varint(-1), varint(3), avroString('secret-value'), varint(0), tail]), 'tags'],
    ];
    for (const [label, body, where] of cases) {
      const err = decodeError(() => maskEncoded(redact, body, keys));
      expect(err.code, label).toBe('MASKER_DECODE');
      expect(err.message, label).toContain(where);
      expect(err.message, label).not.toContain('secret');
    }
  });

  it('fails closed like maskRecord when the plan quarantines every record', () => {
    const p = plan(tagged, policy([{ name: 'other', match: { tags: ['NONE'] }, action: 'redact' }], { onUnmatchedSensitive: 'quarantine' }));
    const body = Buffer.concat([varint(7), varint(0), tail]);
    expect(decodeError(() => maskEncoded(p, body, keys)).code).toBe('MASKER_UNMATCHED_SENSITIVE');
  });
});
