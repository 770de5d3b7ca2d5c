import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { isMaskerError } from '../../../src/errors.js';
import { FilePolicySource } from '../../../src/policy/file-policy-source.js';
import { sha256Of } from '../../../src/policy/file-policy-store.js';
import type { PolicySource } from '../../../src/policy/policy-source.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../../src/policy/redis-policy-admin.js';
import { RedisPolicySource } from '../../../src/policy/redis-policy-source.js';
import { deleteKeys, PHONES_RULE, policyDoc, testClient, uniquePrefix } from './support.js';

/** One store under test, with the ways this suite fills it. */
interface Fixture {
  readonly source: PolicySource;
  /** Stores each document as its policy's only version. */
  store(docs: readonly Record<string, unknown>[]): Promise<void>;
  /** Stores an entry under `name` that cannot be read as a document. */
  storeCorrupt(name: string): Promise<void>;
  /** Run-time route override and toggles, where the store has them. */
  readonly setRoutePolicy?: (route: string, policy: string) => Promise<void>;
  readonly setToggle?: (policy: string, rule: string, state: 'on' | 'off') => Promise<void>;
  cleanup(): Promise<void>;
}

const implementations: [string, () => Promise<Fixture>][] = [
  ['FilePolicySource', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'masker-policies-'));
    let n = 0;
    return {
      source: new FilePolicySource(dir),
      // Alternate YAML and JSON files: both forms must read alike.
      store: async (docs) => {
        for (const doc of docs) {
          const file = n++ % 2 === 0 ? `${String(doc['name'])}.yaml` : `${String(doc['name'])}.json`;
          await writeFile(join(dir, file), file.endsWith('.yaml') ? toYaml(doc) : JSON.stringify(doc));
        }
      },
      storeCorrupt: (name) => writeFile(join(dir, `${name}.yaml`), 'name: [unclosed'),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }],
  ['RedisPolicySource', async () => {
    const prefix = uniquePrefix();
    const client: Redis = testClient();
    const admin = new RedisPolicyAdmin({ client, prefix });
    return {
      source: new RedisPolicySource({ client, prefix }),
      store: async (docs) => {
        for (const doc of docs) await admin.push(doc, { by: 'contract-test', origin: 'test' });
      },
      storeCorrupt: async (name) => {
        await client.hset(`${prefix}:policy:${name}`, { version: '1', doc: '{not json', sha256: 'x' });
      },
      setRoutePolicy: async (route, policy) => {
        await admin.setRoutePolicy(route, policy);
      },
      setToggle: async (policy, rule, state) => {
        await admin.toggle(policy, rule, state);
      },
      cleanup: async () => {
        await deleteKeys(client, prefix);
        await closeRedis(client);
      },
    };
  }],
];

describe.each(implementations)('PolicySource contract: %s', (_name, create) => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await create();
  });
  afterEach(async () => {
    await fx.source.close();
    await fx.cleanup();
  });

  it('returns a stored document with version 1, its canonical sha256 and no signature', async () => {
    const doc = policyDoc('alpha', [PHONES_RULE]);
    await fx.store([doc]);
    const got = await fx.source.get('alpha');
    expect(got?.name).toBe('alpha');
    expect(got?.doc).toEqual(doc);
    expect(got?.version).toBe(1);
    expect(got?.sha256).toBe(sha256Of(doc));
    expect(got?.signature).toBeUndefined();
  });

  it('hashes the document independently of key order', async () => {
    const doc = policyDoc('ordered');
    const reordered = Object.fromEntries(Object.entries(doc).reverse());
    await fx.store([reordered]);
    expect((await fx.source.get('ordered'))?.sha256).toBe(sha256Of(doc));
  });

  it('answers undefined for a policy it does not hold', async () => {
    await fx.store([policyDoc('alpha')]);
    expect(await fx.source.get('nope')).toBeUndefined();
  });

  it('lists stored names sorted, and nothing when empty', async () => {
    expect(await fx.source.names()).toEqual([]);
    await fx.store([policyDoc('zeta'), policyDoc('alpha'), policyDoc('mid-1')]);
    expect(await fx.source.names()).toEqual(['alpha', 'mid-1', 'zeta']);
  });

  it("uses the route file's policy when nothing overrides it, and no toggles", async () => {
    await fx.store([policyDoc('alpha')]);
    expect(await fx.source.policyNameFor({ name: 'customers', policy: 'alpha' })).toBe('alpha');
    expect([...(await fx.source.toggles('alpha'))]).toEqual([]);
  });

  it('refuses to read a corrupt entry with MASKER_POLICY_INVALID', async () => {
    await fx.storeCorrupt('broken');
    const err: unknown = await fx.source.get('broken').then(() => undefined, (e: unknown) => e);
    expect(isMaskerError(err) && err.code).toBe('MASKER_POLICY_INVALID');
  });

  it('can be closed twice', async () => {
    await fx.source.close();
    await expect(fx.source.close()).resolves.toBeUndefined();
  });

  it('honours a run-time route override where the store has one', async (ctx) => {
    if (fx.setRoutePolicy === undefined) ctx.skip();
    await fx.store([policyDoc('alpha'), policyDoc('strict')]);
    await fx.setRoutePolicy?.('customers', 'strict');
    expect(await fx.source.policyNameFor({ name: 'customers', policy: 'alpha' })).toBe('strict');
    expect(await fx.source.policyNameFor({ name: 'orders', policy: 'alpha' })).toBe('alpha');
  });

  it('reports rule toggles where the store has them', async (ctx) => {
    if (fx.setToggle === undefined) ctx.skip();
    await fx.store([policyDoc('alpha', [PHONES_RULE])]);
    await fx.setToggle?.('alpha', 'phones', 'off');
    await fx.setToggle?.('alpha', 'emails', 'on');
    expect(Object.fromEntries(await fx.source.toggles('alpha'))).toEqual({ phones: 'off', emails: 'on' });
  });
});
