import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { signPolicyDoc } from '../../../src/policy/policy-signature.js';
import { openPolicyProvider, type OpenedPolicyProvider } from '../../../src/policy/open-policy-provider.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../../src/policy/redis-policy-admin.js';
import { deleteKeys, policyDoc, redisUrl, testClient, uniquePrefix } from './support.js';

const route = { name: 'customers', policy: 'shop' };

describe('openPolicyProvider', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function opened(p: Promise<OpenedPolicyProvider>): Promise<OpenedPolicyProvider> {
    const o = await p;
    cleanups.push(() => o.stop());
    return o;
  }

  it('uses the policies folder when REDIS_URL is not set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'masker-open-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'shop.yaml'), toYaml(policyDoc('shop')));
    const o = await opened(openPolicyProvider({ routes: [route], policiesDir: dir }));
    expect(o.provider.policyFor(route)).toMatchObject({ name: 'shop', version: 1 });
    await expect(openPolicyProvider({ routes: [route], policiesDir: dir, verifyKey: 'k.pem' }))
      .rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining('REDIS_URL') as unknown });
  });

  it('watches Redis, verifying signatures with MASKER_POLICY_VERIFY_KEY', async () => {
    const client = testClient();
    const prefix = uniquePrefix();
    cleanups.push(async () => {
      await deleteKeys(client, prefix);
      await closeRedis(client);
    });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await new RedisPolicyAdmin({ client, prefix, signingKey: privateKey }).push(policyDoc('shop'), { by: 't', origin: 't' });
    await new RedisPolicyAdmin({ client, prefix }).push(policyDoc('other'), { by: 't', origin: 't' });
    const stores = { redisUrl: redisUrl(), verifyKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    const o = await opened(openPolicyProvider({ routes: [route, { name: 'orders', policy: 'other' }], policiesDir: '/nonexistent', ...stores, prefix }));
    expect(o.description).toContain('signatures required');
    expect(o.provider.policyFor(route)?.version).toBe(1);
    expect(o.provider.policyFor({ name: 'orders', policy: 'other' })).toBeUndefined(); // unsigned: refused
    expect(signPolicyDoc(policyDoc('shop'), privateKey)).toBe((await client.hget(`${prefix}:policy:shop`, 'signature')) ?? '');
  });
});
