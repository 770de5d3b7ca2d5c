import { describe, expect, it } from 'vitest';
import { RouteRuntime } from '../../../src/cli/route-runtime.js';
import { loadEnv } from '../../../src/config/env.js';
import { parseRoute } from '../../../src/config/routes.js';
import { createLogger } from '../../../src/observability/logger.js';

const route = parseRoute({ apiVersion: 'masker/v1', kind: 'Route', name: 'unit', source: { topic: 'src' }, target: { topic: 'dst' }, policy: 'unit', key: 'mask' }, 'unit');
// Nothing listens here: clients are only created, never used, by these tests.
const env = (extra: Record<string, string> = {}): ReturnType<typeof loadEnv> =>
  loadEnv({ KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', ...extra });
const stores = { redisUrl: undefined, verifyKey: undefined, approvalsFile: undefined };

describe('RouteRuntime (the wiring masker run and masker replay share)', () => {
  it('is single-cluster without TARGET_KAFKA_BROKERS and two-cluster with it (audit on the target)', () => {
    const logger = createLogger('silent');
    const one = new RouteRuntime(env(), logger, 'unit');
    expect(one.clusters.mode).toBe('single-cluster');
    expect(one.outputKafka).toBe(one.clusters.kafka);
    const two = new RouteRuntime(env({ TARGET_KAFKA_BROKERS: '127.0.0.1:2' }), logger, 'unit');
    expect(two.clusters.mode).toBe('two-cluster');
    expect(two.outputKafka).toBe(two.clusters.targetKafka);
  });

  it('fails to open on an unreadable policies folder before touching Kafka, and closes once, cleanly', async () => {
    const runtime = new RouteRuntime(env(), createLogger('silent'), 'unit');
    await expect(runtime.open({ routes: [route], policiesDir: '/nonexistent-masker-policies', stores }))
      .rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining('policies folder /nonexistent-masker-policies') as unknown });
    const closing = runtime.close();
    expect(runtime.close()).toBe(closing);
    await expect(closing).resolves.toBeUndefined();
  });

  it('refuses a verify key without Redis, as masker run always has', async () => {
    const runtime = new RouteRuntime(env(), createLogger('silent'), 'unit');
    await expect(runtime.open({ routes: [route], policiesDir: '/nonexistent', stores: { ...stores, verifyKey: 'k.pem' } }))
      .rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining('REDIS_URL is not') as unknown });
    await runtime.close();
  });
});
