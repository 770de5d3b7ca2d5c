import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskRecord } from '../../../src/masking/index.js';
import { keyRing, oneField, plan, policy, schema, thrown } from './support.js';

const keys = keyRing();

/** Masks `{ f: value }` in a one-field schema with one rule (matched by the PII tag). */
function maskOne(type: unknown, value: unknown, action: string, params?: Record<string, unknown>): unknown {
  const s = oneField(type);
  const p = policy([{ name: 'r', match: { tags: ['PII'] }, action, ...(params === undefined ? {} : { params }) }]);
  return (maskRecord(plan(s, p), { f: value }, keys).value as { f: unknown }).f;
}

function planError(type: unknown, action: string, params?: Record<string, unknown>): string {
  const s = oneField(type);
  const p = policy([{ name: 'r', match: { tags: ['PII'] }, action, ...(params === undefined ? {} : { params }) }]);
  const err = thrown(() => plan(s, p));
  expect(err.code).toBe('MASKER_PLAN');
  return err.message;
}

describe('redact', () => {
  it.each<[unknown, unknown, unknown]>([
    ['string', 'secret', '[REDACTED]'],
    ['int', 42, 0],
    ['long', 42, 0],
    ['double', 4.2, 0],
    ['boolean', true, false],
    [{ type: 'enum', name: 'E', symbols: ['A', 'B'], default: 'B' }, 'A', 'B'],
    [{ type: 'enum', name: 'E', symbols: ['A', 'B'] }, 'B', 'A'],
    ['bytes', Buffer.from('secret'), Buffer.alloc(0)],
    [{ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 }, Buffer.from([9, 9]), Buffer.from([0])],
    [{ type: 'fixed', name: 'F', size: 4 }, Buffer.from('abcd'), Buffer.alloc(4)],
    [{ type: 'string', logicalType: 'uuid' }, '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f', '00000000-0000-0000-0000-000000000000'],
  ])('%j: a type-aware constant', (type, value, expected) => {
    expect(maskOne(type, value, 'redact')).toEqual(expected);
  });

  it('uses a replacement that fits the type and refuses one that does not', () => {
    expect(maskOne('string', 'x', 'redact', { replacement: '***' })).toBe('***');
    expect(maskOne('int', 7, 'redact', { replacement: -1 })).toBe(-1);
    expect(planError('int', 'redact', { replacement: 'zero' })).toMatch(/field f: rule "r" \(redact\) cannot apply: expects a number replacement for int, found int/);
    expect(planError({ type: 'enum', name: 'E', symbols: ['A'] }, 'redact', { replacement: 'Z' })).toMatch(/among the enum symbols/);
  });
});

describe('nullify', () => {
  it('nulls a nullable field and is refused on a non-nullable one', () => {
    expect(maskOne(['null', 'string'], 'x', 'nullify')).toBeNull();
    expect(planError('string', 'nullify')).toMatch(/field f: rule "r" \(nullify\) cannot apply: expects a nullable field/);
  });
});

describe('mask', () => {
  it('keeps the asked characters and preserves the length', () => {
    expect(maskOne('string', '4111111111111111', 'mask', { keepLast: 4 })).toBe('************1111');
    expect(maskOne('string', 'Jonathan', 'mask', { keepFirst: 1, char: '#' })).toBe('J#######');
  });

  it('masks everything when the kept characters would reveal the whole value', () => {
    expect(maskOne('string', 'abc', 'mask', { keepFirst: 2, keepLast: 2 })).toBe('***');
  });

  it('counts code points, not UTF-16 units', () => {
    expect(maskOne('string', 'a𝒜b𝒞', 'mask', { keepFirst: 1 })).toBe('a***');
  });

  it('counts letters and digits only: separators stay where they are and are never kept characters', () => {
    expect(maskOne('string', 'DE89 3704 0044 0532 0130 00', 'mask', { keepLast: 4, char: 'X' })).toBe('XXXX XXXX XXXX XXXX XX30 00');
    expect(maskOne('string', '+1 (415) 555-0134', 'mask', { keepFirst: 1, keepLast: 2 })).toBe('+1 (***) ***-**34');
    expect(maskOne('string', 'a b', 'mask', { keepFirst: 1, keepLast: 1 })).toBe('* *');
  });

  it('masks a value of separators only entirely', () => {
    expect(maskOne('string', '--', 'mask', { keepLast: 1 })).toBe('**');
  });

  it('is refused on numbers and uuid strings', () => {
    expect(planError('int', 'mask')).toMatch(/expects string \(not uuid\), found int/);
    expect(planError({ type: 'string', logicalType: 'uuid' }, 'mask')).toMatch(/found string \(logicalType uuid\)/);
  });
});

describe('hash', () => {
  it('is HMAC-SHA256 over the padded domain and the UTF-8 value, hex by default', () => {
    const block = Buffer.alloc(64);
    block.write('r');
    const expected = createHmac('sha256', keys.active.secret).update(block).update('jane@acme.com').digest('hex');
    expect(maskOne('string', 'jane@acme.com', 'hash')).toBe(expected);
  });

  it('honours length and encoding', () => {
    expect(maskOne('string', 'x', 'hash', { length: 16 })).toMatch(/^[0-9a-f]{16}$/);
    expect(maskOne('string', 'x', 'hash', { encoding: 'base64url' })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives numbers of the same type, deterministically', () => {
    const i = maskOne('int', 12345, 'hash') as number;
    expect(Number.isInteger(i) && i >= 0 && i <= 2147483647).toBe(true);
    expect(maskOne('int', 12345, 'hash')).toBe(i);
    expect(maskOne('int', 12346, 'hash')).not.toBe(i);
    const l = maskOne('long', 9007199254740990, 'hash') as number;
    expect(Number.isSafeInteger(l) && l >= 0).toBe(true);
  });

  it('gives valid enums, fixed of the same size, bytes, and UUIDs for uuid strings', () => {
    expect(['A', 'B', 'C']).toContain(maskOne({ type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] }, 'A', 'hash'));
    expect((maskOne({ type: 'fixed', name: 'F', size: 40 }, Buffer.alloc(40, 1), 'hash') as Buffer).length).toBe(40);
    expect((maskOne('bytes', Buffer.from('x'), 'hash') as Buffer).length).toBe(32);
    expect(maskOne({ type: 'string', logicalType: 'uuid' }, '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f', 'hash')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is refused on booleans and decimals', () => {
    expect(planError('boolean', 'hash')).toMatch(/found boolean/);
    expect(planError({ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 }, 'hash')).toMatch(/not a decimal/);
  });
});

describe('pseudonymize', () => {
  const s = schema({
    type: 'record', name: 'Two', fields: [
      { name: 'a', type: 'string', 'confluent:tags': ['PII', 'A'] },
      { name: 'b', type: 'string', 'confluent:tags': ['PII', 'B'] },
      { name: 'c', type: 'string', 'confluent:tags': ['PII', 'C'] },
    ],
  });
  const p = policy([
    { name: 'first', match: { tags: ['A'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person' } },
    { name: 'second', match: { tags: ['B'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person' } },
    { name: 'third', match: { tags: ['C'] }, action: 'pseudonymize', params: { format: 'email' } },
  ]);

  it('gives the same pseudonym for the same input in the same domain, another in another domain', () => {
    const out = maskRecord(plan(s, p), { a: 'Jane@Acme.com', b: 'jane@acme.com ', c: 'jane@acme.com' }, keys).value as Record<string, string>;
    expect(out['a']).toBe(out['b']);
    expect(out['c']).not.toBe(out['a']);
    expect(out['a']).toMatch(/@example\.(com|net|org)$/);
  });

  it('changes with the key', () => {
    const one = maskRecord(plan(s, p), { a: 'x@y.io', b: '', c: '' }, keys).value as Record<string, string>;
    const two = maskRecord(plan(s, p), { a: 'x@y.io', b: '', c: '' }, keyRing('another-secret-987654321', 'k2')).value as Record<string, string>;
    expect(one['a']).not.toBe(two['a']);
  });

  it('is refused on non-strings and on uuid strings with another format', () => {
    expect(planError('long', 'pseudonymize', { format: 'phone' })).toMatch(/expects string, found long/);
    expect(planError({ type: 'string', logicalType: 'uuid' }, 'pseudonymize', { format: 'email' })).toMatch(/format uuid/);
  });
});

describe('generalize', () => {
  it('buckets numbers and keeps string prefixes', () => {
    expect(maskOne('int', 1234, 'generalize', { bucket: 100 })).toBe(1200);
    expect(maskOne('int', -5, 'generalize', { bucket: 10 })).toBe(-10);
    expect(maskOne('double', 12.75, 'generalize', { bucket: 0.5 })).toBe(12.5);
    expect(maskOne('string', '94107', 'generalize', { keepPrefix: 3 })).toBe('941');
  });

  it('is refused where it cannot apply', () => {
    expect(planError('int', 'generalize', { bucket: 2.5 })).toMatch(/an integer bucket for int/);
    expect(planError('int', 'generalize', { keepPrefix: 2 })).toMatch(/for keepPrefix/);
    expect(planError('string', 'generalize', { bucket: 10 })).toMatch(/for bucket/);
  });
});

describe('scrub', () => {
  const text = 'reach me at jane@acme.com or 415-555-0199, card 4242 4242 4242 4242';

  it('replaces findings with tags by default', () => {
    expect(maskOne('string', text, 'scrub')).toBe('reach me at [EMAIL] or [PHONE], card [CREDIT_CARD]');
  });

  it('replaces findings with pseudonyms consistent with pseudonymize in the same domain', () => {
    const s = schema({
      type: 'record', name: 'S', fields: [
        { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
        { name: 'notes', type: 'string', 'confluent:tags': ['PII'] },
      ],
    });
    const p = policy([
      { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person' } },
      { name: 'notes', match: { name: 'notes' }, action: 'scrub', params: { replace: 'pseudonym', domain: 'person' } },
    ]);
    const out = maskRecord(plan(s, p), { email: 'jane@acme.com', notes: text }, keys).value as Record<string, string>;
    expect(out['notes']).toContain(out['email']);
    expect(out['notes']).not.toMatch(/jane@acme|415-555-0199|4242 4242/);
  });
});

describe('keep', () => {
  it('passes the value through and records the decision', () => {
    const s = oneField('string');
    const p = policy([{ name: 'k', match: { tags: ['PII'] }, action: 'keep', params: { reason: 'test fixture' } }]);
    const result = maskRecord(plan(s, p), { f: 'visible' }, keys);
    expect(result.value).toEqual({ f: 'visible' });
    expect(result.fields).toEqual([{ path: 'f', action: 'keep', rule: 'k' }]);
  });
});
