import { describe, expect, it } from 'vitest';
import { MaskerError } from '../../../src/errors.js';
import type { RegistryClient } from '../../../src/registry/registry-client.js';
import { CachedSchemaLookup } from '../../../src/registry/schema-cache.js';

/** Counts calls; answers after a tick so concurrent misses overlap. Tests our cache, not a registry. */
function countingClient(answer: (id: number) => string | Error): { client: RegistryClient; calls: number[] } {
  const calls: number[] = [];
  const client = {
    schemaById: async (id: number) => {
      calls.push(id);
      await new Promise((r) => setImmediate(r));
      const a = answer(id);
      if (a instanceof Error) throw a;
      return { schema: a, schemaType: 'AVRO' };
    },
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
