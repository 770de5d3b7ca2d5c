import { describe, expect, it } from 'vitest';
import { isMaskerError } from '../../../src/errors.js';
import { compilePlan, NEW_FIELD_RULE } from '../../../src/masking/index.js';
import {
  approvedEntrySchema, newLeafPaths, parseStored, pendingEntrySchema, schemaLeafPaths, sourceSubject,
} from '../../../src/policy/schema-approvals.js';
import { policy, schema } from '../masking/support.js';

/** A Debezium row before and after a producer added an untagged `secondary_email`. */
function cdc(extraFields: unknown[]): ReturnType<typeof schema> {
  const row = {
    type: 'record',
    name: 'Row',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
      { name: 'phones', type: { type: 'array', items: 'string' }, default: [] },
      { name: 'extra', type: { type: 'map', values: 'string' }, default: {} },
      ...extraFields,
    ],
  };
  return schema({
    type: 'record',
    name: 'Envelope',
    namespace: 'unit.guard',
    fields: [
      { name: 'before', type: ['null', row], default: null },
      { name: 'after', type: ['null', 'Row'], default: null },
      { name: 'op', type: 'string' },
      { name: 'ts_ms', type: ['null', 'long'], default: null },
    ],
  });
}

const v1 = cdc([]);
const v2 = cdc([
  { name: 'secondary_email', type: ['null', 'string'], default: null },
  { name: 'tier', type: ['null', 'string'], default: null },
]);

describe('schemaLeafPaths: the display paths plan decisions use', () => {
  it('names row leaves with their full path, arrays with [] and maps with {}', () => {
    expect(schemaLeafPaths(v1.type, v1.json, 'debezium')).toEqual([
      'after.email', 'after.extra{}', 'after.id', 'after.phones[]',
      'before.email', 'before.extra{}', 'before.id', 'before.phones[]',
      'op', 'ts_ms',
    ]);
  });

  it('gives the same paths with envelope none (the envelope changes what rules see, not paths)', () => {
    expect(schemaLeafPaths(v2.type, v2.json, 'none')).toEqual(schemaLeafPaths(v2.type, v2.json, 'debezium'));
  });

  it('names the root of a scalar key $', () => {
    const key = schema('string');
    expect(schemaLeafPaths(key.type, key.json, 'none')).toEqual(['$']);
  });

  it('refuses a schema that does not fit the envelope (its plan fails closed too)', () => {
    const flat = schema({ type: 'record', name: 'Flat', fields: [{ name: 'a', type: 'string' }] });
    let err: unknown;
    try {
      schemaLeafPaths(flat.type, flat.json, 'debezium');
    } catch (e) {
      err = e;
    }
    expect(isMaskerError(err) && err.code).toBe('MASKER_PLAN');
  });
});

describe('newLeafPaths: leaves(writer) − ∪ leaves(approved)', () => {
  const leaves1 = schemaLeafPaths(v1.type, v1.json, 'debezium');
  const leaves2 = schemaLeafPaths(v2.type, v2.json, 'debezium');

  it('finds the fields a producer added, in both rows', () => {
    expect(newLeafPaths(leaves2, [{ paths: leaves1 }])).toEqual([
      'after.secondary_email', 'after.tier', 'before.secondary_email', 'before.tier',
    ]);
  });

  it('is empty for an approved schema and for one that only removes fields', () => {
    expect(newLeafPaths(leaves2, [{ paths: leaves1 }, { paths: leaves2 }])).toEqual([]);
    expect(newLeafPaths(leaves1, [{ paths: leaves2 }])).toEqual([]);
  });

  it('holds every leaf when nothing is approved', () => {
    expect(newLeafPaths(leaves1, [])).toEqual(leaves1);
  });

  it('counts a leaf any approved schema had (the union), and reports each path once, sorted', () => {
    expect(newLeafPaths(['b', 'a', 'c', 'a'], [{ paths: ['b'] }, { paths: ['x'] }])).toEqual(['a', 'c']);
  });

  it('gives the engine paths it honours: untagged new fields redacted as (newField), tagged ones by their rule', () => {
    const held = new Set(newLeafPaths(leaves2, [{ paths: leaves1 }]));
    const p = compilePlan(v2.type, policy([{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' }]), {
      envelope: 'debezium', schemaJson: v2.json, heldPaths: held,
    });
    const byPath = new Map(p.decisions.map((d) => [d.path, d.rule]));
    expect(byPath.get('after.secondary_email')).toBe(NEW_FIELD_RULE);
    expect(byPath.get('after.tier')).toBe(NEW_FIELD_RULE);
    expect(byPath.get('after.email')).toBe('emails');
  });
});

describe('stored entries are validated with the path at fault', () => {
  it('names the source subject of a route part', () => {
    expect(sourceSubject({ source: { topic: 'prod.cdc.customers' } }, 'value')).toBe('prod.cdc.customers-value');
    expect(sourceSubject({ source: { topic: 'prod.cdc.customers' } }, 'key')).toBe('prod.cdc.customers-key');
  });

  it('accepts a well-formed approved entry', () => {
    const entry = { subject: 't-value', schemaId: 3, approvedAt: '2026-12-01T10:00:00.000Z', by: 'alice', paths: ['a'] };
    expect(parseStored(approvedEntrySchema, entry, 'k')).toEqual(entry);
  });

  it('rejects a wrong type, an unknown key and an empty newPaths, naming each path', () => {
    const bad = { subject: 't-value', schemaId: '3', approvedAt: 'yesterday', by: 'alice', paths: ['a', 7], extra: 1 };
    expect(() => parseStored(approvedEntrySchema, bad, 'masker:schemas:r:approved field t-value:3'))
      .toThrow(/masker:schemas:r:approved field t-value:3: .*schemaId: Expected number.*approvedAt: .*paths\[1\]: Expected string.*extra/);
    const pending = { subject: 't-value', schemaId: 3, newPaths: [], paths: ['a'], firstSeen: '2026-12-01T10:00:00Z' };
    expect(() => parseStored(pendingEntrySchema, pending, 'f')).toThrow(/f: .*newPaths: Array must contain at least 1/);
  });

  it('refuses a subject that is not <topic>-value or <topic>-key', () => {
    const entry = { subject: 'other', schemaId: 3, approvedAt: '2026-12-01T10:00:00Z', by: 'a', paths: [] };
    expect(() => parseStored(approvedEntrySchema, entry, 'f')).toThrow(/subject: expected <topic>-value or <topic>-key/);
  });
});
