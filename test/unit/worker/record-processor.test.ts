import { describe, expect, it } from 'vitest';
import { parseRoute, type Route } from '../../../src/config/routes.js';
import { parseKeyRing } from '../../../src/config/secrets.js';
import { MaskerError } from '../../../src/errors.js';
import { parsePolicy } from '../../../src/masking/index.js';
import type { ActivePolicy } from '../../../src/policy/active-policy.js';
import { parseSchema, type ResolvedSchema, type SchemaLookup } from '../../../src/registry/schema-cache.js';
import { readFrame, writeFrame } from '../../../src/registry/wire-format.js';
import type { SourceRecord } from '../../../src/worker/record-processor.js';
import { RecordProcessor } from '../../../src/worker/record-processor.js';

/** An in-memory registry: schemas by id, registrations counted, optionally down. */
class MemoryLookup implements SchemaLookup {
  readonly byIdCalls: number[] = [];
  readonly registered: string[] = [];
  down = false;

  constructor(private readonly schemas: ReadonlyMap<number, ResolvedSchema>) {}

  byId(id: number): Promise<ResolvedSchema> {
    this.byIdCalls.push(id);
    if (this.down) return Promise.reject(new MaskerError('MASKER_REGISTRY_UNAVAILABLE', 'registry down'));
    const schema = this.schemas.get(id);
    return schema === undefined ? Promise.reject(new MaskerError('MASKER_SCHEMA_NOT_FOUND', `schema id ${id} not found`)) : Promise.resolve(schema);
  }

  register(subject: string): Promise<number> {
    this.registered.push(subject);
    return Promise.resolve(subject.endsWith('-key') ? 900 : 901);
  }
}

const customer = parseSchema(7, JSON.stringify({
  type: 'record',
  name: 'Customer',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'note', type: 'string' },
  ],
}));
const key = parseSchema(8, JSON.stringify({ type: 'record', name: 'Key', fields: [{ name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] }] }));

const policy: ActivePolicy = {
  name: 'unit',
  version: 3,
  sha256: 'abc',
  disabledRules: new Set(),
  policy: parsePolicy({
    apiVersion: 'masker/v1',
    kind: 'MaskingPolicy',
    name: 'unit',
    rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person' } }],
  }, 'unit'),
};

function route(extra: Partial<Route> = {}): Route {
  return parseRoute({ apiVersion: 'masker/v1', kind: 'Route', name: 'unit', source: { topic: 'src' }, target: { topic: 'dst' }, policy: 'unit', key: 'mask', ...extra }, 'unit');
}

let offset = 0;
function record(value: Buffer | null, keyBytes: Buffer | null = writeFrame(8, key.type.toBuffer({ email: 'jane@acme.com' }))): SourceRecord {
  return { topic: 'src', partition: 0, offset: String(offset++), key: keyBytes, value, headers: undefined };
}

const body = (email: string, note = 'call me'): Buffer => writeFrame(7, customer.type.toBuffer({ id: 1, email, note }));
const keys = parseKeyRing('unit-test-secret-0123456789', 'test');

function processor(lookup: SchemaLookup, r: Route = route()): RecordProcessor {
  return new RecordProcessor(r, lookup, keys, { maxRecordBytes: 1024 * 1024 });
}

describe('RecordProcessor: resolve once per chunk, then mask synchronously', () => {
  it('resolves each distinct writer schema once per chunk and masks every record with it', async () => {
    const lookup = new MemoryLookup(new Map([[7, customer], [8, key]]));
    const p = processor(lookup);
    const records = [record(body('a@x.org')), record(body('b@x.org')), record(body('c@x.org'))];
    const chunk = await p.prepare(records, policy);
    expect(lookup.byIdCalls.sort()).toEqual([7, 8]);
    expect(lookup.registered.sort()).toEqual(['dst-key', 'dst-value']);
    const results = records.map((r) => p.mask(r, chunk));
    for (const [i, result] of results.entries()) {
      const frame = readFrame(result.target!.value!, 'test');
      expect(frame.schemaId).toBe(901);
      const masked = customer.type.fromBuffer(frame.body) as { email: string; note: string };
      expect(masked.email).not.toBe(['a@x.org', 'b@x.org', 'c@x.org'][i]);
      expect(masked.note).toBe('call me');
      const maskedKey = key.type.fromBuffer(readFrame(result.target!.key!, 'test').body) as { email: string };
      expect(maskedKey.email).not.toBe('jane@acme.com');
    }
    // The same email in key and value pseudonymises alike (domain person): joins survive.
    const audit = p.recordAuditEvent(results[0]!.facts);
    expect(audit.fields.map((f) => f.path)).toEqual(['key:email', 'email']);
    expect(audit.newSchema).toBe(true);
    expect(p.recordAuditEvent(results[1]!.facts).newSchema).toBeUndefined();
  });

  it('quarantines only the records of a schema that cannot be resolved, and the ones not in wire format', async () => {
    const lookup = new MemoryLookup(new Map([[7, customer], [8, key]]));
    const p = processor(lookup);
    const unknown = record(writeFrame(99, Buffer.from([2, 0])));
    const notFramed = record(Buffer.from('plain text'));
    const good = record(body('a@x.org'));
    const chunk = await p.prepare([unknown, notFramed, good], policy);
    expect(p.mask(unknown, chunk).facts.error?.code).toBe('MASKER_SCHEMA_NOT_FOUND');
    expect(p.mask(notFramed, chunk).facts.error?.code).toBe('MASKER_WIRE_FORMAT');
    expect(p.mask(unknown, chunk).quarantine?.value).toEqual(unknown.value);
    expect(p.mask(good, chunk).target).toBeDefined();
  });

  it('throws from prepare when the registry is down, so the chunk is retried (nothing quarantined)', async () => {
    const lookup = new MemoryLookup(new Map([[7, customer], [8, key]]));
    lookup.down = true;
    await expect(processor(lookup).prepare([record(body('a@x.org'))], policy)).rejects.toMatchObject({ code: 'MASKER_REGISTRY_UNAVAILABLE' });
  });

  it('keeps, drops or refuses keys as the route says, and passes tombstones with a masked key', async () => {
    const lookup = new MemoryLookup(new Map([[7, customer], [8, key]]));
    const raw = Buffer.from('raw-key');
    const kept = processor(lookup, route({ key: 'keep' }));
    const r1 = record(body('a@x.org'), raw);
    expect(kept.mask(r1, await kept.prepare([r1], policy)).target?.key).toEqual(raw);
    const dropped = processor(lookup, route({ key: 'drop' }));
    const r2 = record(body('a@x.org'), raw);
    expect(dropped.mask(r2, await dropped.prepare([r2], policy)).target?.key).toBeNull();
    const masking = processor(lookup);
    const r3 = record(body('a@x.org'), raw);
    expect(masking.mask(r3, await masking.prepare([r3], policy)).facts.error?.code).toBe('MASKER_KEY_FORMAT');
    const tombstone = record(null);
    const out = masking.mask(tombstone, await masking.prepare([tombstone], policy));
    expect(out.target?.value).toBeNull();
    expect(out.facts.outcome).toBe('tombstone');
  });

  it('never puts a value in an audit event or error', async () => {
    const lookup = new MemoryLookup(new Map([[7, customer], [8, key]]));
    const p = processor(lookup, route({ key: 'keep' }));
    const corrupt = record(writeFrame(7, Buffer.from([2, 0xff, 0xff])));
    const r = record(body('secret.person@x.org', 'SSN 078-05-1120'));
    const chunk = await p.prepare([corrupt, r], policy);
    const text = JSON.stringify([p.recordAuditEvent(p.mask(corrupt, chunk).facts), p.recordAuditEvent(p.mask(r, chunk).facts)]);
    expect(text).not.toContain('secret.person');
    expect(text).not.toContain('078-05-1120');
    expect(text).toContain('MASKER_DECODE');
  });
});
