import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { CachedSchemaLookup } from '../../src/registry/schema-cache.js';
import { endpoints, testRegistry, unique } from './support/services.js';

const tagged = {
  type: 'record',
  name: 'Tagged',
  namespace: 'it.registry',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'inner', type: { type: 'record', name: 'Inner', fields: [{ name: 'ssn', type: 'string', 'confluent:tags': ['PII'] }] } },
  ],
};

describe('the local schema registry speaks the Confluent API', () => {
  const registry = testRegistry();
  const subject = `${unique('it.registry')}-value`;

  it('works with @kafkajs/confluent-schema-registry: register, fetch by id, fetch latest, encode/decode', async () => {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(tagged) }, { subject });
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    const schema = await registry.getSchema(id);
    expect(schema).toBeDefined();
    const bytes = await registry.encode(id, { id: 1, email: 'a@b.c', inner: { ssn: '123-45-6789' } });
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(await registry.decode(bytes)).toEqual({ id: 1, email: 'a@b.c', inner: { ssn: '123-45-6789' } });
  });

  it('keeps confluent:tags field attributes through the round trip (nested too)', async () => {
    const id = await registry.getLatestSchemaId(subject);
    const client = new RegistryClient({ url: endpoints().registryUrl });
    const { schema } = await client.schemaById(id);
    const json = JSON.parse(schema) as typeof tagged;
    expect(json.fields[1]).toMatchObject({ name: 'email', 'confluent:tags': ['PII', 'EMAIL'] });
    expect((json.fields[2]!.type as { fields: unknown[] }).fields[0]).toMatchObject({ name: 'ssn', 'confluent:tags': ['PII'] });
    expect((await client.latest(subject))?.id).toBe(id);
  });

  it('tells an unknown id (quarantine) from an unreachable registry (retry)', async () => {
    const lookup = new CachedSchemaLookup(new RegistryClient({ url: endpoints().registryUrl }));
    await expect(lookup.byId(2_000_000_000)).rejects.toMatchObject({ code: 'MASKER_SCHEMA_NOT_FOUND', disposition: 'quarantine' });
    const down = new CachedSchemaLookup(new RegistryClient({ url: 'http://127.0.0.1:9', timeoutMs: 2_000 }));
    await expect(down.byId(1)).rejects.toMatchObject({ code: 'MASKER_REGISTRY_UNAVAILABLE', disposition: 'retry' });
  });

  it('answers undefined for the latest version of a subject that does not exist', async () => {
    const client = new RegistryClient({ url: endpoints().registryUrl });
    expect(await client.latest(`${unique('it.none')}-value`)).toBeUndefined();
  });
});
