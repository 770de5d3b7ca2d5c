import type { Command } from 'commander';
import { loadEnv } from '../config/env.js';
import { loadRoutes } from '../config/routes.js';
import { loadKeyRing } from '../config/secrets.js';
import { startHealthServer } from '../observability/health-server.js';
import { createLogger } from '../observability/logger.js';
import { MaskerMetrics } from '../observability/metrics.js';
import { startWorker, type RunningWorker } from '../worker/worker.js';
import { policyStoreSettings } from './policy-store-settings.js';
import { probeClusters } from './clusters.js';
import { RouteRuntime } from './route-runtime.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('start masking workers for every route (endpoints from KAFKA_BROKERS, SCHEMA_REGISTRY_URL; policies from REDIS_URL or --policies)')
    .option('--routes <dir>', 'folder of route files (*.yaml)', 'topics')
    .option('--policies <dir>', 'folder of policy files, used when REDIS_URL is not set', 'policies')
    .action(async (opts: { routes: string; policies: string }) => {
      const env = loadEnv();
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
      const runtime = new RouteRuntime(env, logger, 'masker');
      const { kafka, targetKafka, lookup, mode } = runtime.clusters;
      const metrics = new MaskerMetrics();
      let worker: RunningWorker | undefined;
      const health = env.METRICS_PORT === 0 ? undefined : await startHealthServer({
        port: env.METRICS_PORT,
        host: env.METRICS_HOST,
        metrics,
        readiness: () => (worker === undefined ? { ready: false, reason: 'worker starting' } : { ready: true }),
      });

      const closeAll = async (): Promise<void> => {
        await Promise.allSettled([runtime.close(), health?.close()]);
      };
      try {
        // A wrong address fails here in seconds, naming the setting (the worker's clients retry for long).
        await probeClusters(env);
        // Policies, the audit sink, and the schema-change guard (approvals next to the policies: Redis, or <policies>/.schema-approvals.state).
        const { policies, schemaGuard } = await runtime.open({
          routes,
          policiesDir: opts.policies,
          stores: policyStoreSettings(),
          onPolicyEvent: (event, auditSink) => {
            auditSink.publish(event);
            if (event.type === 'policy-applied') metrics.policyVersion.set({ policy: event.policy.name }, event.policy.version);
          },
        });
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
          auditMode: env.MASKER_AUDIT,
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
