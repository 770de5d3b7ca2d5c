import type { Command } from 'commander';
import { KafkaAuditSink } from '../audit/audit-sink.js';
import { loadEnv } from '../config/env.js';
import { loadRoutes } from '../config/routes.js';
import { loadKeyRing } from '../config/secrets.js';
import { ensureTopics } from '../kafka/admin.js';
import { startHealthServer } from '../observability/health-server.js';
import { createLogger } from '../observability/logger.js';
import { MaskerMetrics } from '../observability/metrics.js';
import { openPolicyProvider, type OpenedPolicyProvider } from '../policy/open-policy-provider.js';
import { openSchemaGuard } from '../policy/open-schema-guard.js';
import type { SchemaGuard } from '../policy/schema-guard.js';
import { startWorker, type RunningWorker } from '../worker/worker.js';
import { policyStoreSettings } from './policy-store-settings.js';
import { connectClusters, probeClusters } from './clusters.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('start masking workers for every route (endpoints from KAFKA_BROKERS, SCHEMA_REGISTRY_URL; policies from REDIS_URL or --policies)')
    .option('--routes <dir>', 'folder of route files (*.yaml)', 'topics')
    .option('--policies <dir>', 'folder of policy files, used when REDIS_URL is not set', 'policies')
    .action(async (opts: { routes: string; policies: string }) => {
      const env = loadEnv();
      const stores = policyStoreSettings();
      const logger = createLogger(env.LOG_LEVEL);
      // Listen for SIGTERM/SIGINT from the very start: a signal during startup (an orchestrator scaling
      // down, a test) must still end in a clean shutdown with exit 0, not in the default kill.
      let stopSignal: string | undefined;
      let onSignal: () => void = () => undefined;
      const signalled = new Promise<void>((resolve) => { onSignal = resolve; });
      const shutdown = (signal: string): void => {
        stopSignal ??= signal;
        onSignal();
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      const routes = loadRoutes(opts.routes);
      const keys = loadKeyRing();
      // Two-cluster mode: masked records and audit go to the target cluster, quarantine stays on the source.
      const { kafka, targetKafka, lookup, mode } = connectClusters(env, logger, 'masker');
      const outputKafka = targetKafka ?? kafka;
      const metrics = new MaskerMetrics();
      let worker: RunningWorker | undefined;
      const health = env.METRICS_PORT === 0 ? undefined : await startHealthServer({
        port: env.METRICS_PORT,
        host: env.METRICS_HOST,
        metrics,
        readiness: () => (worker === undefined ? { ready: false, reason: 'worker starting' } : { ready: true }),
      });

      const auditSink = new KafkaAuditSink(outputKafka, env.MASKER_AUDIT_TOPIC, logger);
      let policies: OpenedPolicyProvider | undefined;
      let schemaGuard: SchemaGuard | undefined;
      const closeAll = async (): Promise<void> => {
        await Promise.allSettled([policies?.stop(), schemaGuard?.stop(), auditSink.stop(), health?.close()]);
      };
      try {
        // A wrong address fails here in seconds, naming the setting (the worker's clients retry for long).
        await probeClusters(env);
        await ensureTopics(outputKafka, [{ topic: env.MASKER_AUDIT_TOPIC }]);
        await auditSink.start();
        policies = await openPolicyProvider({
          routes,
          policiesDir: opts.policies,
          ...stores,
          logger,
          onEvent: (event) => {
            auditSink.publish(event);
            if (event.type === 'policy-applied') metrics.policyVersion.set({ policy: event.policy.name }, event.policy.version);
          },
        });
        // Schema-change guard: approvals next to the policies (Redis, or <policies>/.schema-approvals.state).
        schemaGuard = await openSchemaGuard({ routes, policiesDir: opts.policies, ...stores, logger, onEvent: (event) => auditSink.publish(event) });
        logger.info({
          mode,
          targetRegistry: env.TARGET_SCHEMA_REGISTRY_URL === undefined ? 'source' : 'separate',
        }, targetKafka === undefined
          ? 'single-cluster mode: masked records, audit and quarantine on the source cluster'
          : 'two-cluster mode: masked records and audit on the target cluster, quarantine on the source cluster');
        logger.info({ keyId: keys.active.id, policies: policies.description, routes: routes.map((r) => r.name), metricsPort: health?.port }, 'configuration loaded');
        worker = await startWorker({
          kafka, routes, lookup, keys, logger, metrics,
          ...(targetKafka === undefined ? {} : { targetKafka }),
          policies: policies.provider,
          schemaGuard,
          groupId: env.MASKER_GROUP_ID,
          auditTopic: env.MASKER_AUDIT_TOPIC,
          quarantineTopic: env.MASKER_QUARANTINE_TOPIC,
          maxRecordBytes: env.MASKER_MAX_RECORD_BYTES,
          maxBatchRecords: env.MASKER_BATCH_RECORDS,
          partitionConcurrency: env.MASKER_PARTITION_CONCURRENCY,
          sessionTimeoutMs: env.MASKER_SESSION_TIMEOUT_MS,
          statusIntervalMs: env.MASKER_STATUS_INTERVAL_SECONDS * 1000,
        });
      } catch (err) {
        await closeAll();
        throw err;
      }
      await signalled;
      logger.info({ signal: stopSignal }, 'shutting down: leaving the group; an open transaction is aborted');
      await worker.stop().catch((err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
      });
      await closeAll();
    });
}
