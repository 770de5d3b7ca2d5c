import { afterEach, describe, expect, it, vi } from 'vitest';
import { MaskerError } from '../../../src/errors.js';
import { parsePolicy, PlanCache, type PlanPolicy } from '../../../src/masking/index.js';
import { RegistryClient } from '../../../src/registry/registry-client.js';
import { CachedSchemaLookup, type SchemaLookupOptions } from '../../../src/registry/schema-cache.js';
import { startFakeRegistry, type FakeRegistry, type FakeRegistryOptions } from './fake-registry.js';

/** Counts calls; answers after a tick so concurrent misses overlap. Tests our cache, not a registry. */
function countingClient(answer: (id: number) => string | Error): { client: RegistryClient; calls: number[] } {
  const calls: number[] = [];
  const client = {
    schemaById: async (id: number) => {
      calls.push(id);
      await new Promise((r) => setImmediate(r));
      const a = answer(id);
      if (a instanceof Error) throw a;
      return { schema: a, schemaType: 'AVRO', metadata: undefined };
    },
    // A registry without the versions-of-an-id endpoint: no metadata tags.
    versionsOfId: async () => undefined,
  } as unknown as RegistryClient;
  return { client, calls };
}

describe('CachedSchemaLookup', () => {
  it('shares one request among concurrent misses and caches the result', async () => {
    const { client, calls } = countingClient(() => '"string"');
    const lookup = new CachedSchemaLookup(client);
    const results = await Promise.all([lookup.byId(1), lookup.byId(1), lookup.byId(1)]);
    await lookup.byId(1);
    expect(calls).toEqual([1]);
    expect(results[0]!.type.isValid('x')).toBe(true);
  });

  it('does not cache failures, so the next record retries', async () => {
    let fail = true;
    const { client, calls } = countingClient(() => (fail ? new MaskerError('MASKER_REGISTRY_UNAVAILABLE', 'down') : '"long"'));
    const lookup = new CachedSchemaLookup(client);
    await expect(lookup.byId(5)).rejects.toMatchObject({ code: 'MASKER_REGISTRY_UNAVAILABLE' });
    fail = false;
    await expect(lookup.byId(5)).resolves.toMatchObject({ id: 5 });
    expect(calls).toEqual([5, 5]);
  });

  it('registers masked schemas in the second (target) registry when given one, looks ids up in the first', async () => {
    const registered: string[] = [];
    const registrar = (name: string, id: number): RegistryClient => ({
      register: async (subject: string) => { registered.push(`${name}:${subject}`); return id; },
    }) as unknown as RegistryClient;
    const { client, calls } = countingClient(() => '"string"');
    const source = Object.assign(client, { register: registrar('source', 1).register });
    const lookup = new CachedSchemaLookup(source, registrar('target', 42));
    await lookup.byId(3);
    expect(await lookup.register('t-value', '"string"')).toBe(42);
    expect(await lookup.register('t-value', '"string"')).toBe(42);
    expect(registered).toEqual(['target:t-value']);
    expect(calls).toEqual([3]);
  });

  it('refuses a schema avsc cannot parse, as a decode error (quarantine)', async () => {
    const { client } = countingClient(() => '{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}');
    await expect(new CachedSchemaLookup(client).byId(9)).rejects.toMatchObject({ code: 'MASKER_DECODE', disposition: 'quarantine' });
  });
});

const customerSchema = JSON.stringify({
  type: 'record',
  name: 'Customer',
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'nickname', type: 'string' },
  ],
});

const policy: PlanPolicy = {
  name: 'p',
  version: 1,
  sha256: 'test',
  disabledRules: new Set(),
  policy: parsePolicy({
    apiVersion: 'masker/v1',
    kind: 'MaskingPolicy',
    name: 'p',
    newFields: 'pass',
    rules: [{ name: 'nicknames', match: { tags: ['NICK'] }, action: 'redact', params: { replacement: '[nick]' } }],
  }, 'test policy'),
};

function tagsOf(json: unknown, field: string): unknown {
  return (json as { fields: { name: string; 'confluent:tags'?: unknown }[] }).fields.find((f) => f.name === field)?.['confluent:tags'];
}

describe('CachedSchemaLookup: registry metadata tags (fake HTTP registry)', () => {
  let fake: FakeRegistry | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function lookupOver(options: FakeRegistryOptions, lookupOptions: SchemaLookupOptions = {}): Promise<{ lookup: CachedSchemaLookup; fake: FakeRegistry }> {
    fake = await startFakeRegistry(options);
    return { lookup: new CachedSchemaLookup(new RegistryClient({ url: fake.url }), undefined, lookupOptions), fake };
  }

  it('merges the subject-versions\' metadata.tags into confluent:tags, and the plan masks the field', async () => {
    const { lookup } = await lookupOver({
      schemas: { 7: customerSchema },
      versions: [{ subject: 'prod.customers-value', version: 3, id: 7, metadata: { tags: { 'com.acme.Customer.nickname': ['PII', 'NICK'] }, properties: { owner: 'crm' } } }],
    });
    const schema = await lookup.byId(7);
    expect(tagsOf(schema.json, 'nickname')).toEqual(['NICK', 'PII']);
    expect(tagsOf(schema.json, 'email')).toEqual(['PII']);
    expect(JSON.parse(schema.text)).toEqual(JSON.parse(customerSchema)); // the raw text is untouched
    expect(Object.fromEntries(schema.metadataTags)).toEqual({ 'com.acme.Customer.nickname': ['NICK', 'PII'] });

    const entry = new PlanCache().get(schema, policy, 'none');
    if (!entry.ok) throw entry.error;
    expect(entry.plan.decisions).toContainEqual(expect.objectContaining({ path: 'nickname', action: 'redact', rule: 'nicknames' }));
  });

  it('without metadata tags the field is not sensitive (the test above would fail without the merge)', async () => {
    const { lookup } = await lookupOver({ schemas: { 7: customerSchema }, versions: [{ subject: 's-value', version: 1, id: 7 }] });
    const schema = await lookup.byId(7);
    expect(tagsOf(schema.json, 'nickname')).toBeUndefined();
    const entry = new PlanCache().get(schema, policy, 'none');
    if (!entry.ok) throw entry.error;
    expect(entry.plan.decisions.find((d) => d.path === 'nickname')).toBeUndefined();
  });

  it('looks the metadata up once per id, never per record, and asks for soft-deleted versions too', async () => {
    const { lookup, fake: registry } = await lookupOver({
      schemas: { 7: customerSchema },
      versions: [
        { subject: 'a-value', version: 1, id: 7, metadata: { tags: { '**.nickname': ['PII'] } } },
        { subject: 'b-value', version: 4, id: 7, metadata: { tags: { '**.nickname': ['NICK'] } }, deleted: true },
      ],
    });
    await Promise.all([lookup.byId(7), lookup.byId(7), lookup.byId(7)]);
    for (let i = 0; i < 100; i++) await lookup.byId(7);
    expect(registry.requests.sort()).toEqual([
      'GET /schemas/ids/7',
      'GET /schemas/ids/7/versions?deleted=true',
      'GET /subjects/a-value/versions/1?deleted=true',
      'GET /subjects/b-value/versions/4?deleted=true',
    ]);
    // One id, several subjects with different metadata (AxonOps keys ids by text): the union, the safe side.
    expect(tagsOf((await lookup.byId(7)).json, 'nickname')).toEqual(['NICK', 'PII']);
  });

  it('reads metadata from the by-id answer too (Confluent puts it there)', async () => {
    const { lookup } = await lookupOver({
      schemas: { 7: customerSchema },
      byIdMetadata: { 7: { tags: { 'com.acme.Customer.nickname': ['NICK'] } } },
      versionsEndpoint: false,
    });
    expect(tagsOf((await lookup.byId(7)).json, 'nickname')).toEqual(['NICK']);
  });

  it('a registry without the versions endpoint (404): no metadata tags, no error', async () => {
    const { lookup, fake: registry } = await lookupOver({ schemas: { 7: customerSchema }, versionsEndpoint: false });
    const schema = await lookup.byId(7);
    expect(schema.metadataTags.size).toBe(0);
    expect(tagsOf(schema.json, 'nickname')).toBeUndefined();
    expect(registry.requests).toEqual(['GET /schemas/ids/7', 'GET /schemas/ids/7/versions?deleted=true']);
  });

  it('malformed metadata fails closed for that schema, naming subject, version and key; cached as failing for a while', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const { lookup, fake: registry } = await lookupOver({
        schemas: { 7: customerSchema },
        versions: [{ subject: 'prod.customers-value', version: 3, id: 7, metadata: { tags: { 'com.acme.Customer.nickname': 'PII' } } }],
      }, { invalidSchemaTtlMs: 30_000 });
      const failure = {
        code: 'MASKER_DECODE',
        disposition: 'quarantine',
        message: expect.stringMatching(/^schema id 7 \(subject prod\.customers-value version 3\): registry data-contract metadata is invalid: metadata\.tags\["com\.acme\.Customer\.nickname"\] must be an array of strings, found a string$/),
      };
      await expect(lookup.byId(7)).rejects.toMatchObject(failure);
      await expect(lookup.byId(7)).rejects.toMatchObject(failure);
      expect(registry.requests).toHaveLength(3); // the second record did not ask the registry again
      vi.advanceTimersByTime(30_000);
      await expect(lookup.byId(7)).rejects.toMatchObject(failure);
      expect(registry.requests).toHaveLength(6);
    } finally {
      vi.useRealTimers();
    }
  });

  it('logs paths that match no field once, at debug, without failing', async () => {
    const debug = vi.fn();
    const { lookup } = await lookupOver({
      schemas: { 7: customerSchema },
      versions: [{ subject: 's-value', version: 1, id: 7, metadata: { tags: { '**.ssn': ['PII'], '**.nickname': ['NICK'] } } }],
    }, { logger: { debug } });
    for (let i = 0; i < 5; i++) await lookup.byId(7);
    expect(debug).toHaveBeenCalledTimes(1);
    expect(debug).toHaveBeenCalledWith({ schemaId: 7, paths: ['**.ssn'] }, expect.stringContaining('match no field'));
  });

  it('registers the masked schema with the writer\'s metadata tags, and without metadata when there are none', async () => {
    const { lookup, fake: registry } = await lookupOver({
      schemas: { 7: customerSchema },
      versions: [{ subject: 's-value', version: 1, id: 7, metadata: { tags: { '**.nickname': ['NICK', 'PII'] } } }],
    });
    const schema = await lookup.byId(7);
    await lookup.register('staging.customers-value', schema.text, schema.metadataTags);
    await lookup.register('staging.customers-value', schema.text, schema.metadataTags);
    await lookup.register('staging.plain-value', schema.text);
    expect(registry.registered).toEqual([
      { subject: 'staging.customers-value', body: { schema: schema.text, schemaType: 'AVRO', metadata: { tags: { '**.nickname': ['NICK', 'PII'] } } } },
      { subject: 'staging.plain-value', body: { schema: schema.text, schemaType: 'AVRO' } },
    ]);
  });
});
