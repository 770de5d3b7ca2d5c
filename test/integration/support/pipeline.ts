import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { parseRoute, type Route } from '../../../src/config/routes.js';
import { parseKeyRing } from '../../../src/config/secrets.js';
import { createKafka } from '../../../src/kafka/client.js';
import { shadowTopic } from '../../../src/kafka/cross-cluster.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { AuditMode } from '../../../src/audit/audit-event.js';
import type { MaskerMetrics } from '../../../src/observability/metrics.js';
import type { PolicyProvider } from '../../../src/policy/active-policy.js';
import { FilePolicyStore } from '../../../src/policy/file-policy-store.js';
import { RegistryClient } from '../../../src/registry/registry-client.js';
import { CachedSchemaLookup } from '../../../src/registry/schema-cache.js';
import { startWorker, type RunningWorker } from '../../../src/worker/worker.js';
import { deleteTopics, endpoints, unique } from './services.js';

export const TEST_SECRET = 'integration-test-secret-0123456789';

export interface TestPipeline {
  readonly route: Route;
  readonly auditTopic: string;
  readonly quarantineTopic: string;
  readonly groupId: string;
  readonly kafka: Kafka;
  /** Where target and audit topics live: `kafka`, or the second cluster in two-cluster mode. */
  readonly targetKafka: Kafka;
  stop(): Promise<void>;
  /** Stops the worker and deletes the route's topics, the audit and quarantine topics. */
  dispose(): Promise<void>;
}

/** Writes a policy document to a fresh folder and returns the folder. */
export function policyFolder(doc: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'masker-policies-'));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(doc));
  return dir;
}

/** Starts a real worker (in this process) on unique audit/quarantine topics and group. */
export async function startTestPipeline(options: {
  route: Omit<Route, 'apiVersion' | 'kind' | 'envelope' | 'key' | 'headers' | 'allowHeaders'> & Partial<Route>;
  /** Policies folder; or a ready provider (e.g. a Redis watcher) via `policies`. */
  policiesDir?: string;
  policies?: PolicyProvider;
  /** Default: the test environment's registry (a proxy in outage tests). */
  registryUrl?: string;
  maxRecordBytes?: number;
  metrics?: MaskerMetrics;
  maxBatchRecords?: number;
  /** Two-cluster mode: the target cluster's brokers (MASKER_TEST_TARGET_BROKERS). */
  targetBrokers?: string[];
  /** Registry where masked schemas are registered (MASKER_TEST_TARGET_REGISTRY_URL). Default: the source one. */
  targetRegistryUrl?: string;
  /** `chunk` (v2, the default) or `record` (v1: one audit event per source record). */
  auditMode?: AuditMode;
}): Promise<TestPipeline> {
  const { brokers } = endpoints();
  const registryUrl = options.registryUrl ?? endpoints().registryUrl;
  const policies = options.policies ?? new FilePolicyStore(options.policiesDir ?? 'policies');
  const route = parseRoute({ apiVersion: 'masker/v1', kind: 'Route', ...options.route }, 'test route');
  const auditTopic = unique('it.audit');
  const quarantineTopic = unique('it.quarantine');
  const groupId = unique('it-group');
  const logger = createLogger((process.env['LOG_LEVEL'] as 'info' | undefined) ?? 'silent');
  const kafka = createKafka({ brokers, clientId: unique('it-worker'), logger });
  const targetKafka = options.targetBrokers === undefined ? kafka : createKafka({ brokers: options.targetBrokers, clientId: unique('it-worker'), logger });
  const worker: RunningWorker = await startWorker({
    kafka,
    ...(options.targetBrokers === undefined ? {} : { targetKafka }),
    routes: [route],
    lookup: options.targetRegistryUrl === undefined
      ? new CachedSchemaLookup(new RegistryClient({ url: registryUrl }))
      : new CachedSchemaLookup(new RegistryClient({ url: registryUrl }), new RegistryClient({ url: options.targetRegistryUrl })),
    keys: parseKeyRing(TEST_SECRET, 'test'),
    policies,
    groupId,
    auditTopic,
    quarantineTopic,
    maxRecordBytes: options.maxRecordBytes ?? 1024 * 1024,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.maxBatchRecords === undefined ? {} : { maxBatchRecords: options.maxBatchRecords }),
    ...(options.auditMode === undefined ? {} : { auditMode: options.auditMode }),
    logger,
  });
  return {
    route, auditTopic, quarantineTopic, groupId, kafka, targetKafka,
    stop: () => worker.stop(),
    dispose: async () => {
      await worker.stop();
      await deleteTopics(kafka, [route.source.topic, route.target.topic, auditTopic, quarantineTopic]);
      if (targetKafka !== kafka) await deleteTopics(targetKafka, [route.target.topic, auditTopic, shadowTopic(route.source.topic)]);
    },
  };
}
