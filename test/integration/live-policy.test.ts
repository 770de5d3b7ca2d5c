import { generateKeyPairSync } from 'node:crypto';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyAuditEvent } from '../../src/audit/audit-event.js';
import { createRedisClient } from '../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../src/policy/redis-policy-admin.js';
import { RedisPolicySource } from '../../src/policy/redis-policy-source.js';
import { PolicyWatcher } from '../../src/policy/policy-watcher.js';
import { deleteKeys, uniquePrefix } from './policy/support.js';
import { distinctRecords, readAudit, type AuditRead } from './support/audit.js';
import { waitFor } from './support/cli-worker.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { consumeAll, createTopics, deleteTopics, endpoints, testKafka, testRegistry, unique } from './support/services.js';
import { hostPort, TcpProxy } from './support/tcp-proxy.js';

const schema = {
  type: 'record',
  name: 'Contact',
  namespace: 'it.live',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};

const policy = (action: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'masker/v1',
  kind: 'MaskingPolicy',
  name: 'live',
  rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, ...action }],
});

/**
 * Policies from Redis through a running worker: Redis cut mid-stream (processing continues on the
 * last-known-good policy), then restored and a new version pushed (applied within 2 s); an invalid and a
 * badly signed push are both refused, audited, and the running policy stays.
 */
describe('live policies from Redis, through the worker', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.live.src');
  const target = unique('it.live.dst');
  const prefix = uniquePrefix();
  const { host, port } = hostPort(endpoints().redisUrl);
  const proxy = new TcpProxy(host, port);
  const adminClient = createRedisClient(endpoints().redisUrl);
  const signing = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const admin = new RedisPolicyAdmin({ client: adminClient, prefix, signingKey: signing.privateKey });
  const events: PolicyAuditEvent[] = [];
  let watcher: PolicyWatcher;
  let pipeline: TestPipeline;
  let schemaId: number;
  let next = 0;

  async function produce(count: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    const messages = [];
    for (let i = 0; i < count; i++, next++) messages.push({ value: await registry.encode(schemaId, { n: next, email: `person${next}@live.example` }) });
    await producer.send({ topic: source, messages });
    await producer.disconnect();
  }

  /** Every source record the audit accounts for so far (exactly once each), in offset order (one partition). */
  async function auditedSoFar(): Promise<AuditRead['records']> {
    const audit = await readAudit(kafka, pipeline.auditTopic, next, { settleMs: 200 });
    expect(audit.records).toHaveLength(next);
    expect(distinctRecords(audit.records)).toBe(next);
    return [...audit.records].sort((a, b) => Number(a.offset) - Number(b.offset));
  }

  async function maskedSoFar(): Promise<{ n: number; email: string }[]> {
    const out = await consumeAll(kafka, target, next, { timeoutMs: 60_000, settleMs: 200 });
    return Promise.all(out.map(async (m) => (await registry.decode(m.value!)) as { n: number; email: string }));
  }

  beforeAll(async () => {
    const proxyPort = await proxy.start();
    await createTopics(kafka, [source]);
    ({ id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` }));
    await admin.push(policy({ action: 'redact', params: { replacement: 'v1-redacted' } }), { by: 'test', origin: 'test' });
    watcher = new PolicyWatcher({
      source: RedisPolicySource.fromUrl(`redis://127.0.0.1:${proxyPort}`, { prefix }),
      routes: [{ name: 'live', policy: 'live' }],
      verifyKey: signing.publicKey,
      pollIntervalMs: 500,
      onEvent: (e) => events.push(e),
    });
    await watcher.start();
    pipeline = await startTestPipeline({
      route: { name: 'live', source: { topic: source }, target: { topic: target }, policy: 'live' },
      policies: watcher,
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await watcher?.stop();
    await proxy.stop();
    await deleteKeys(adminClient, prefix);
    adminClient.disconnect();
    await deleteTopics(kafka, [source, target, pipeline?.auditTopic ?? '', pipeline?.quarantineTopic ?? ''].filter((t) => t !== ''));
  });

  it('masks with v1, keeps masking with v1 while Redis is unreachable', async () => {
    await produce(5);
    expect((await maskedSoFar()).map((r) => r.email)).toEqual(Array(5).fill('v1-redacted'));
    proxy.down();
    await produce(5);
    const all = await maskedSoFar();
    expect(all).toHaveLength(10);
    expect(all.every((r) => r.email === 'v1-redacted')).toBe(true);
  });

  it('applies a version pushed after Redis comes back within 2 s', async () => {
    proxy.restore();
    const pushed = await admin.push(policy({ action: 'redact', params: { replacement: 'v2-redacted' } }), { by: 'test', origin: 'test' });
    const started = Date.now();
    await watcher.waitForVersion('live', pushed.version, 2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    await produce(3);
    expect((await maskedSoFar()).slice(-3).map((r) => r.email)).toEqual(Array(3).fill('v2-redacted'));
    const versions = (await auditedSoFar()).map((r) => r.policy?.version);
    expect(versions.slice(-3)).toEqual([pushed.version, pushed.version, pushed.version]);
  });

  it('refuses an invalid and a badly signed version, audits both, and keeps the running one', async () => {
    const running = watcher.policyFor({ name: 'live', policy: 'live' })!.version;
    // Invalid: written straight into Redis (push would refuse it), as a careless writer could.
    await adminClient.hset(`${prefix}:policy:live`, { version: String(running + 1), doc: JSON.stringify({ ...policy({ action: 'explode' }) }), sha256: 'x' });
    await adminClient.publish(`${prefix}:policy-updates`, JSON.stringify({ name: 'live', version: running + 1 }));
    await watcher.waitForEvent((e) => e.type === 'policy-rejected' && e.policy.version === running + 1, 5_000);
    // Badly signed: a well-formed document signed by a key the workers do not trust.
    const forger = new RedisPolicyAdmin({ client: adminClient, prefix, signingKey: stranger.privateKey });
    const forged = await forger.push(policy({ action: 'keep', params: { reason: 'forged' } }), { by: 'mallory', origin: 'test' });
    await watcher.waitForEvent((e) => e.type === 'policy-rejected' && e.policy.version === forged.version, 5_000);

    expect(watcher.policyFor({ name: 'live', policy: 'live' })!.version).toBe(running);
    await produce(2);
    expect((await maskedSoFar()).slice(-2).map((r) => r.email)).toEqual(['v2-redacted', 'v2-redacted']);
    const rejected = events.filter((e) => e.type === 'policy-rejected');
    expect(rejected.map((e) => e.error?.code)).toEqual(expect.arrayContaining(['MASKER_POLICY_INVALID', 'MASKER_POLICY_SIGNATURE']));
  });

  it('a rule toggled off sends its fields to onUnmatchedSensitive (never pass-through) and the audit names it', async () => {
    // The forged version above is still the newest in Redis; a toggle applies with a valid version.
    const valid = await admin.push(policy({ action: 'redact', params: { replacement: 'v3-redacted' } }), { by: 'test', origin: 'test' });
    await watcher.waitForVersion('live', valid.version, 5_000);
    await admin.toggle('live', 'emails', 'off');
    await waitFor('the toggle to apply', async () => watcher.policyFor({ name: 'live', policy: 'live' })?.disabledRules.has('emails') === true, 5_000, 50);
    await produce(2);
    const lastTwo = (await maskedSoFar()).slice(-2);
    for (const r of lastTwo) {
      expect(r.email).toBe('[REDACTED]');
      expect(r.email).not.toContain('live.example');
    }
    for (const last of (await auditedSoFar()).slice(-2)) {
      expect(last.policy?.disabledRules).toEqual(['emails']);
      expect(last.fields?.map((f) => f.rule)).toEqual(['(unmatchedSensitive)']);
    }
  });
});
