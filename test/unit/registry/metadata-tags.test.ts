import { describe, expect, it } from 'vitest';
import { MaskerError } from '../../../src/errors.js';
import { mergeMetadataTags, metadataTagsJson, parseMetadataTags, unionMetadataTags } from '../../../src/registry/metadata-tags.js';

const customer = {
  type: 'record',
  name: 'Customer',
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'nickname', type: ['null', 'string'], default: null },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address', // inherits com.acme
        fields: [{ name: 'street', type: 'string' }, { name: 'zip', type: 'string' }],
      },
    },
    { name: 'billing', type: ['null', 'Address'], default: null }, // a reference: tagged at the definition
    {
      name: 'contacts',
      type: {
        type: 'array',
        items: { type: 'record', name: 'Contact', namespace: 'org.other', fields: [{ name: 'value', type: 'string' }] },
      },
    },
    {
      name: 'extras',
      type: { type: 'map', values: { type: 'record', name: 'x.y.Extra', fields: [{ name: 'note', type: 'string' }] } },
    },
    { name: 'plain', type: { type: 'record', name: 'Plain', namespace: '', fields: [{ name: 'email', type: 'string' }] } },
  ],
};

type Field = { name: string; type: unknown; 'confluent:tags'?: unknown };
type Rec = { fields: Field[] };

function merged(tags: Record<string, string[]>): { json: Rec; unmatched: readonly string[] } {
  const result = mergeMetadataTags(customer, unionMetadataTags([new Map(Object.entries(tags))]));
  return { json: result.json as Rec, unmatched: result.unmatched };
}

function fieldOf(json: Rec, ...path: string[]): Field {
  let rec: Rec = json;
  let field: Field | undefined;
  for (const [i, name] of path.entries()) {
    field = rec.fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`no field ${name}`);
    if (i < path.length - 1) {
      const t = field.type as { type?: unknown; items?: unknown; values?: unknown };
      rec = (t.items ?? t.values ?? t) as Rec;
    }
  }
  return field as Field;
}

describe('parseMetadataTags', () => {
  it('reads metadata.tags; absent metadata or tags means none', () => {
    expect(parseMetadataTags({ tags: { '**.email': ['PII', 'EMAIL'] }, properties: { owner: 'x' } }, 'w')).toEqual(new Map([['**.email', ['PII', 'EMAIL']]]));
    expect(parseMetadataTags(undefined, 'w').size).toBe(0);
    expect(parseMetadataTags(null, 'w').size).toBe(0);
    expect(parseMetadataTags({ properties: { 'confluent:version': '1' } }, 'w').size).toBe(0);
    expect(parseMetadataTags({ tags: {} }, 'w').size).toBe(0);
  });

  it.each([
    ['metadata not an object', ['x'], /"metadata" must be an object, found an array/],
    ['tags not an object', { tags: ['PII'] }, /metadata\.tags must be an object of string arrays .*found an array/],
    ['tags a string', { tags: 'PII' }, /metadata\.tags must be an object .*found a string/],
    ['a value not an array', { tags: { 'Customer.email': 'PII' } }, /metadata\.tags\["Customer\.email"\] must be an array of strings, found a string/],
    ['a tag not a string', { tags: { '**.ssn': ['PII', 7] } }, /metadata\.tags\["\*\*\.ssn"\]\[1\] must be a string, found a number/],
    ['a key that is no glob', { tags: { 'Customer.[email': ['PII'] } }, /metadata\.tags\["Customer\.\[email"\]: the key is not a valid field path glob/],
    ['an empty key', { tags: { '': ['PII'] } }, /metadata\.tags\[""\]: the key is not a valid field path glob/],
  ])('fails closed (MASKER_DECODE, quarantine) on %s, naming where and the key', (_label, metadata, message) => {
    let caught: unknown;
    try {
      parseMetadataTags(metadata, 'schema id 7 (subject s-value version 2)');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MaskerError);
    expect(caught).toMatchObject({ code: 'MASKER_DECODE', disposition: 'quarantine' });
    expect((caught as Error).message).toMatch(/^schema id 7 \(subject s-value version 2\): registry data-contract metadata is invalid: /);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('unionMetadataTags', () => {
  it('unions tags per key, sorted, without duplicates', () => {
    const union = unionMetadataTags([
      new Map([['**.email', ['PII']], ['b.c', ['X']]]),
      new Map([['**.email', ['EMAIL', 'PII']]]),
      new Map(),
    ]);
    expect(metadataTagsJson(union)).toEqual({ '**.email': ['EMAIL', 'PII'], 'b.c': ['X'] });
    expect([...union.keys()]).toEqual(['**.email', 'b.c']);
  });
});

describe('mergeMetadataTags', () => {
  it('adds tags to the field named by its record-qualified path, keeping the inline ones', () => {
    const { json, unmatched } = merged({ 'com.acme.Customer.nickname': ['PII', 'NICK'], 'com.acme.Customer.email': ['EMAIL', 'PII'] });
    expect(fieldOf(json, 'nickname')['confluent:tags']).toEqual(['NICK', 'PII']);
    expect(fieldOf(json, 'email')['confluent:tags']).toEqual(['PII', 'EMAIL']);
    expect(fieldOf(json, 'id')['confluent:tags']).toBeUndefined();
    expect(unmatched).toEqual([]);
  });

  it('names a nested record field after its own record (inherited namespace), not the path from the root', () => {
    const { json, unmatched } = merged({ 'com.acme.Address.street': ['PII'], 'com.acme.Customer.address.zip': ['PII'] });
    expect(fieldOf(json, 'address', 'street')['confluent:tags']).toEqual(['PII']);
    expect(fieldOf(json, 'address', 'zip')['confluent:tags']).toBeUndefined();
    expect(unmatched).toEqual(['com.acme.Customer.address.zip']);
  });

  it('honours explicit namespaces, dotted names and the empty namespace; walks arrays and maps', () => {
    const { json, unmatched } = merged({ 'org.other.Contact.value': ['PII'], 'x.y.Extra.note': ['FREE'], 'Plain.email': ['EMAIL'] });
    expect(fieldOf(json, 'contacts', 'value')['confluent:tags']).toEqual(['PII']);
    expect(fieldOf(json, 'extras', 'note')['confluent:tags']).toEqual(['FREE']);
    expect(fieldOf(json, 'plain', 'email')['confluent:tags']).toEqual(['EMAIL']);
    expect(unmatched).toEqual([]);
  });

  it('applies wildcards to every field they match, and reports keys that match nothing', () => {
    const { json, unmatched } = merged({ '**.email': ['EMAIL'], '**.ssn': ['PII'], 'Customer.email': ['PII'] });
    expect(fieldOf(json, 'email')['confluent:tags']).toEqual(['PII', 'EMAIL']);
    expect(fieldOf(json, 'plain', 'email')['confluent:tags']).toEqual(['EMAIL']);
    // Customer.email does not match com.acme.Customer.email: the record name is fully qualified.
    expect(unmatched).toEqual(['**.ssn', 'Customer.email']);
  });

  it('leaves a malformed inline confluent:tags alone (the plan compiler reports it) and never mutates its input', () => {
    const schema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string', 'confluent:tags': 'PII' }] };
    const before = structuredClone(schema);
    const { json } = mergeMetadataTags(schema, new Map([['R.a', ['PII']]]));
    expect((json as Rec).fields[0]!['confluent:tags']).toBe('PII');
    expect(schema).toEqual(before);
    const clean = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    mergeMetadataTags(clean, new Map([['R.a', ['PII']]]));
    expect(clean.fields[0]).toEqual({ name: 'a', type: 'string' });
  });

  it('matches nothing in a non-record schema', () => {
    expect(mergeMetadataTags('string', new Map([['**', ['PII']]]))).toEqual({ json: 'string', unmatched: ['**'] });
  });
});
