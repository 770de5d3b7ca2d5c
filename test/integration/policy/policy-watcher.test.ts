import { generateKeyPairSync } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyAuditEvent } from '../../../src/audit/audit-event.js';
import { sha256Of } from '../../../src/policy/file-policy-store.js';
import { signPolicyDoc } from '../../../src/policy/policy-signature.js';
import { PolicyWatcher, type PolicyWatcherOptions } from '../../../src/policy/policy-watcher.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../../src/policy/redis-policy-admin.js';
import { RedisPolicySource } from '../../../src/policy/redis-policy-source.js';
import { deleteKeys, PHONES_RULE, policyDoc, redisUrl, testClient, uniquePrefix } from './support.js';

const customers = { name: 'customers', policy: 'shop' };
const orders = { name: 'orders', policy: 'never-pushed' };

describe('PolicyWatcher over Redis', () => {
  let client: Redis;
  let prefix: string;
  let admin: RedisPolicyAdmin;
  let events: PolicyAuditEvent[];
  const watchers: PolicyWatcher[] = [];

  beforeEach(() => {
    client = testClient();
    prefix = uniquePrefix();
    admin = new RedisPolicyAdmin({ client, prefix });
    events = [];
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
    await deleteKeys(client, prefix);
    await closeRedis(client);
  });

  async function startWatcher(options: Partial<PolicyWatcherOptions> = {}): Promise<PolicyWatcher> {
    const watcher = new PolicyWatcher({
      source: RedisPolicySource.fromUrl(redisUrl(), { prefix }),
      routes: [customers, orders],
      pollIntervalMs: 60_000, // long: a test that must not rely on polling cannot pass by polling
      onEvent: (e) => events.push(e),
      ...options,
    });
    watchers.push(watcher);
    await watcher.start();
    return watcher;
  }

  /** Writes a policy hash the way a Redis writer bypassing `masker policy push` would: no validation, no notice. */
  async function writeRaw(name: string, fields: { version: number; doc: unknown; signature?: string; sha256?: string }): Promise<void> {
    await client.hset(`${prefix}:policy:${name}`, {
      version: String(fields.version), doc: JSON.stringify(fields.doc), sha256: fields.sha256 ?? sha256Of(fields.doc),
      signature: fields.signature ?? '', updatedAt: new Date().toISOString(), updatedBy: 'raw',
    });
  }

  async function announce(name: string, version: number): Promise<void> {
    await client.publish(`${prefix}:policy-updates`, JSON.stringify({ name, version }));
  }

  it('loads each route on start; a route whose policy was never pushed has none', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    expect(watcher.policyFor(customers)).toMatchObject({ name: 'shop', version: 1, sha256: sha256Of(policyDoc('shop')) });
    expect(watcher.policyFor(orders)).toBeUndefined();
    expect(watcher.policyFor({ name: 'unknown-route', policy: 'shop' })).toBeUndefined();
    expect(events.map((e) => [e.type, e.route, e.policy.version])).toEqual([
      ['policy-applied', 'customers', 1], ['policy-rejected', 'orders', 0],
    ]);
    expect(events[1]?.error?.code).toBe('MASKER_POLICY_MISSING');
  });

  it('picks up a pushed version through pub/sub within 2 s', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    const started = Date.now();
    await admin.push(policyDoc('shop', [PHONES_RULE]), { by: 't', origin: 't' });
    const applied = await watcher.waitForVersion('shop', 2, 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(applied.policy.rules.map((r) => r.name)).toEqual(['emails', 'phones']);
    expect(watcher.policyFor(customers)?.version).toBe(2);
  });

  it('catches up by polling when the notice was missed', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    const watcher = await startWatcher({ pollIntervalMs: 100 });
    await writeRaw('shop', { version: 2, doc: policyDoc('shop', [PHONES_RULE]) }); // no PUBLISH
    await expect(watcher.waitForVersion('shop', 2, 3000)).resolves.toMatchObject({ version: 2 });
  });

  it('catches up when its connections come back, without waiting for a poll', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    const connectionName = `masker-test-${prefix.slice(-12)}`;
    const watcher = new PolicyWatcher({
      source: RedisPolicySource.fromUrl(redisUrl(), { prefix, connectionName }),
      routes: [customers],
      pollIntervalMs: 60_000,
    });
    watchers.push(watcher);
    await watcher.start();
    await writeRaw('shop', { version: 2, doc: policyDoc('shop', [PHONES_RULE]) }); // missed: no notice
    // Drop this watcher's own connections (and only those), as a network blip would.
    const ids = (await client.client('LIST') as string).split('\n')
      .filter((line) => line.includes(` name=${connectionName} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    expect(ids.length).toBeGreaterThanOrEqual(2); // reader + subscriber
    for (const id of ids) await client.client('KILL', 'ID', id);
    await expect(watcher.waitForVersion('shop', 2, 3000)).resolves.toMatchObject({ version: 2 });
  });

  it('rejects an invalid document, keeps the last-known-good and emits policy-rejected', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    const rejected = watcher.waitForEvent((e) => e.type === 'policy-rejected' && e.policy.version === 2, 2000);
    const bad = { ...policyDoc('shop'), rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pass-through' }] };
    await writeRaw('shop', { version: 2, doc: bad });
    await announce('shop', 2);
    const event = await rejected;
    expect(event).toMatchObject({ route: 'customers', policy: { name: 'shop', version: 2 }, error: { code: 'MASKER_POLICY_INVALID' } });
    expect(watcher.policyFor(customers)).toMatchObject({ version: 1, sha256: sha256Of(policyDoc('shop')) });

    // The same bad candidate is reported once, not on every pass.
    await watcher.refresh();
    expect(events.filter((e) => e.type === 'policy-rejected' && e.route === 'customers')).toHaveLength(1);
  });

  it('rejects a document whose stored sha256 does not match', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    await writeRaw('shop', { version: 2, doc: policyDoc('shop', [PHONES_RULE]), sha256: sha256Of(policyDoc('shop')) });
    await watcher.refresh();
    expect(events.at(-1)).toMatchObject({ type: 'policy-rejected', error: { code: 'MASKER_POLICY_INVALID' } });
    expect(watcher.policyFor(customers)?.version).toBe(1);
  });

  it('with a verify key: applies signed versions, rejects unsigned and badly signed ones', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = new RedisPolicyAdmin({ client, prefix, signingKey: privateKey });
    await signer.push(policyDoc('shop'), { by: 't', origin: 't' });
    const watcher = await startWatcher({ verifyKey: publicKey });
    expect(watcher.policyFor(customers)?.version).toBe(1);

    const weaker = policyDoc('shop', [{ name: 'ssn', match: { tags: ['SSN'] }, action: 'keep', params: { reason: 'x' } }]);
    await writeRaw('shop', { version: 2, doc: weaker }); // unsigned injection
    await announce('shop', 2);
    const unsigned = await watcher.waitForEvent((e) => e.type === 'policy-rejected' && e.policy.version === 2, 2000);
    expect(unsigned.error?.code).toBe('MASKER_POLICY_SIGNATURE');

    // A valid signature of ANOTHER document (tampered doc).
    await writeRaw('shop', { version: 3, doc: weaker, signature: signPolicyDoc(policyDoc('shop'), privateKey) });
    await announce('shop', 3);
    const tampered = await watcher.waitForEvent((e) => e.type === 'policy-rejected' && e.policy.version === 3, 2000);
    expect(tampered.error?.code).toBe('MASKER_POLICY_SIGNATURE');
    expect(JSON.stringify(events)).not.toContain('PRIVATE KEY');
    expect(watcher.policyFor(customers)?.version).toBe(1);

    await signer.push(policyDoc('shop', [PHONES_RULE]), { by: 't', origin: 't' });
    await expect(watcher.waitForVersion('shop', 4, 2000)).resolves.toMatchObject({ version: 4 });
  });

  it('refuses a version that goes backwards', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    await admin.push(policyDoc('shop', [PHONES_RULE]), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    await writeRaw('shop', { version: 1, doc: policyDoc('shop') });
    await watcher.refresh();
    expect(events.at(-1)).toMatchObject({ type: 'policy-rejected', policy: { version: 1 } });
    expect(watcher.policyFor(customers)?.version).toBe(2);
  });

  it('builds disabledRules from toggles and applies toggle changes live', async () => {
    await admin.push(policyDoc('shop', [PHONES_RULE]), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    expect([...(watcher.policyFor(customers)?.disabledRules ?? ['?'])]).toEqual([]);
    const applied = watcher.waitForEvent((e) => e.type === 'policy-applied', 2000);
    await admin.toggle('shop', 'phones', 'off');
    await applied;
    expect([...(watcher.policyFor(customers)?.disabledRules ?? [])]).toEqual(['phones']);
    expect(watcher.policyFor(customers)?.version).toBe(1);
  });

  it('switches a route to another policy, and keeps the old one when the new one is refused', async () => {
    await admin.push(policyDoc('shop'), { by: 't', origin: 't' });
    await admin.push(policyDoc('strict', [PHONES_RULE]), { by: 't', origin: 't' });
    const watcher = await startWatcher();
    const switched = watcher.waitForEvent((e) => e.type === 'policy-applied' && e.policy.name === 'strict', 2000);
    await admin.setRoutePolicy('customers', 'strict');
    await switched;
    expect(watcher.policyFor(customers)?.name).toBe('strict');

    await client.set(`${prefix}:route:customers:policy`, 'ghost'); // raw write to a missing policy
    await watcher.refresh();
    expect(events.at(-1)).toMatchObject({ type: 'policy-rejected', route: 'customers', error: { code: 'MASKER_POLICY_MISSING' } });
    expect(watcher.policyFor(customers)?.name).toBe('strict');
  });

  it('fails start when Redis cannot be reached, without hanging', async () => {
    const watcher = new PolicyWatcher({
      source: RedisPolicySource.fromUrl('redis://127.0.0.1:1', { prefix, maxReconnectAttempts: 0, connectTimeoutMs: 500 }),
      routes: [customers],
    });
    await expect(watcher.start()).rejects.toMatchObject({ code: 'MASKER_REDIS_UNAVAILABLE' });
    expect(watcher.policyFor(customers)).toBeUndefined();
  });
});
