import { generateKeyPairSync } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMaskerError } from '../../../src/errors.js';
import { sha256Of } from '../../../src/policy/file-policy-store.js';
import { isValidSignature } from '../../../src/policy/policy-signature.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../../src/policy/redis-policy-admin.js';
import { parseUpdate } from '../../../src/policy/redis-policy-source.js';
import { deleteKeys, PHONES_RULE, policyDoc, testClient, uniquePrefix } from './support.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  return isMaskerError(err) ? err.code : err === undefined ? undefined : String(err);
}

describe('RedisPolicyAdmin', () => {
  let client: Redis;
  let prefix: string;
  let admin: RedisPolicyAdmin;
  const push = (doc: unknown, by = 'alice'): ReturnType<RedisPolicyAdmin['push']> => admin.push(doc, { by, origin: 'test.yaml' });

  beforeEach(() => {
    client = testClient();
    prefix = uniquePrefix();
    admin = new RedisPolicyAdmin({ client, prefix, now: () => new Date('2025-01-02T03:04:05.000Z') });
  });
  afterEach(async () => {
    await deleteKeys(client, prefix);
    await closeRedis(client);
  });

  it('writes the DESIGN.md hash layout, bumps the version and keeps earlier versions in the history', async () => {
    const v1 = policyDoc('shop');
    const v2 = policyDoc('shop', [PHONES_RULE]);
    expect(await push(v1)).toMatchObject({ name: 'shop', version: 1, changed: true, signed: false });
    expect(await push(v2, 'bob')).toMatchObject({ version: 2, changed: true });

    const hash = await client.hgetall(`${prefix}:policy:shop`);
    expect(hash).toEqual({
      version: '2', doc: JSON.stringify(v2), sha256: sha256Of(v2), signature: '',
      updatedAt: '2025-01-02T03:04:05.000Z', updatedBy: 'bob',
    });
    const history = (await client.lrange(`${prefix}:policy:shop:history`, 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ version: 1, sha256: sha256Of(v1), updatedBy: 'alice' });
    expect(JSON.parse(String(history[0]?.['doc']))).toEqual(v1);
    expect((await admin.show('shop', 1)).doc).toEqual(v1);
    expect((await admin.show('shop')).version).toBe(2);
  });

  it('does not bump the version when the same document is pushed again', async () => {
    await push(policyDoc('shop'));
    expect(await push(policyDoc('shop'))).toMatchObject({ version: 1, changed: false });
    expect(await client.llen(`${prefix}:policy:shop:history`)).toBe(0);
  });

  it('gives concurrent pushes distinct versions', async () => {
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => push(policyDoc('race', [{ ...PHONES_RULE, name: `r${i}` }]))));
    expect(results.map((r) => r.version).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await client.llen(`${prefix}:policy:race:history`)).toBe(4);
  });

  it('refuses an invalid document and writes nothing', async () => {
    const bad = { ...policyDoc('shop'), rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'explode' }] };
    expect(await codeOf(push(bad))).toBe('MASKER_POLICY_INVALID');
    expect(await client.exists(`${prefix}:policy:shop`)).toBe(0);
  });

  it('publishes {name, version} on push, toggle and route switch', async () => {
    const sub = client.duplicate();
    const seen: unknown[] = [];
    sub.on('message', (_channel: string, message: string) => seen.push(parseUpdate(message)));
    await sub.subscribe(`${prefix}:policy-updates`);
    try {
      await push(policyDoc('shop', [PHONES_RULE]));
      await push(policyDoc('shop'));
      await push(policyDoc('shop', [PHONES_RULE]));
      await admin.toggle('shop', 'phones', 'off');
      await admin.setRoutePolicy('customers', 'shop');
      const deadline = Date.now() + 2000;
      while (seen.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual([
        { name: 'shop', version: 1 }, { name: 'shop', version: 2 }, { name: 'shop', version: 3 },
        { name: 'shop', version: 3 }, { name: 'shop', version: 3 },
      ]);
    } finally {
      await closeRedis(sub);
    }
  });

  it('rolls back by re-publishing an old document as a new, higher version', async () => {
    const v1 = policyDoc('shop');
    await push(v1);
    await push(policyDoc('shop', [PHONES_RULE]));
    const result = await admin.rollback('shop', 1, 'carol');
    expect(result).toMatchObject({ version: 3, changed: true });
    const current = await admin.show('shop');
    expect(current).toMatchObject({ version: 3, doc: v1, sha256: sha256Of(v1), updatedBy: 'carol' });
    expect((await admin.history('shop')).map((p) => p.version)).toEqual([2, 1]);
    expect(await codeOf(admin.rollback('shop', 9, 'carol'))).toBe('MASKER_POLICY_MISSING');
  });

  it('toggles known rules only, and only on policies that exist', async () => {
    await push(policyDoc('shop', [PHONES_RULE]));
    await admin.toggle('shop', 'phones', 'off');
    expect(await client.hgetall(`${prefix}:toggles:shop`)).toEqual({ phones: 'off' });
    expect(await codeOf(admin.toggle('shop', 'nonexistent', 'off'))).toBe('MASKER_INPUT');
    expect(await codeOf(admin.toggle('ghost', 'emails', 'off'))).toBe('MASKER_POLICY_MISSING');
    expect((await admin.list())[0]).toMatchObject({ name: 'shop', version: 1, disabledRules: ['phones'] });
  });

  it('points a route at an existing policy only', async () => {
    await push(policyDoc('strict'));
    await admin.setRoutePolicy('customers', 'strict');
    expect(await client.get(`${prefix}:route:customers:policy`)).toBe('strict');
    expect(await codeOf(admin.setRoutePolicy('customers', 'ghost'))).toBe('MASKER_POLICY_MISSING');
    expect(await codeOf(admin.setRoutePolicy('Bad:Route', 'strict'))).toBe('MASKER_INPUT');
  });

  it('diffs the current version against a candidate and between versions', async () => {
    await push(policyDoc('shop'));
    await push(policyDoc('shop', [PHONES_RULE]));
    const between = await admin.diff('shop', { from: 1, to: 2 });
    expect(between.changed).toBe(true);
    expect(between.text).toContain('--- shop@v1');
    expect(between.text).toContain('+      "name": "phones"');
    const same = await admin.diff('shop', { candidate: policyDoc('shop', [PHONES_RULE]), label: 'cand.yaml' });
    expect(same.changed).toBe(false);
  });

  it('signs with the signing key, and refuses unsigned pushes when a verify key is set', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = new RedisPolicyAdmin({ client, prefix, signingKey: privateKey, verifyKey: publicKey });
    const doc = policyDoc('signed');
    expect(await signer.push(doc, { by: 'ci', origin: 'x' })).toMatchObject({ signed: true, version: 1 });
    const stored = await signer.show('signed');
    expect(stored.signature !== undefined && isValidSignature(doc, stored.signature, publicKey)).toBe(true);

    const verifierOnly = new RedisPolicyAdmin({ client, prefix, verifyKey: publicKey });
    expect(await codeOf(verifierOnly.push(policyDoc('other'), { by: 'x', origin: 'x' }))).toBe('MASKER_POLICY_SIGNATURE');
    const other = generateKeyPairSync('ed25519');
    const wrongPair = new RedisPolicyAdmin({ client, prefix, signingKey: other.privateKey, verifyKey: publicKey });
    expect(await codeOf(wrongPair.push(policyDoc('other'), { by: 'x', origin: 'x' }))).toBe('MASKER_POLICY_SIGNATURE');
    expect(await client.exists(`${prefix}:policy:other`)).toBe(0);
  });

  it('keeps a signed version signed on rollback without the signing key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = new RedisPolicyAdmin({ client, prefix, signingKey: privateKey });
    await signer.push(policyDoc('shop'), { by: 'ci', origin: 'x' });
    await signer.push(policyDoc('shop', [PHONES_RULE]), { by: 'ci', origin: 'x' });
    const ops = new RedisPolicyAdmin({ client, prefix, verifyKey: publicKey });
    expect(await ops.rollback('shop', 1, 'ops')).toMatchObject({ version: 3, signed: true });
  });
});
