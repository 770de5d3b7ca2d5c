import type { Command } from 'commander';
import { KafkaAuditSink } from '../audit/audit-sink.js';
import { loadEnv, required } from '../config/env.js';
import { loadRoutes } from '../config/routes.js';
import { loadKeyRing } from '../config/secrets.js';
import { ensureTopics } from '../kafka/admin.js';
import { createKafka } from '../kafka/client.js';
import { startHealthServer } from '../observability/health-server.js';
import { createLogger } from '../observability/logger.js';
import { MaskerMetrics } from '../observability/metrics.js';
import { openPolicyProvider, type OpenedPolicyProvider } from '../policy/open-policy-provider.js';
import { RegistryClient } from '../registry/registry-client.js';
import { CachedSchemaLookup } from '../registry/schema-cache.js';
import { startWorker, type RunningWorker } from '../worker/worker.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('start masking workers for every route (endpoints from KAFKA_BROKERS, SCHEMA_REGISTRY_URL; policies from REDIS_URL or --policies)')
    .option('--routes <dir>', 'folder of route files (*.yaml)', 'topics')
    .option('--policies <dir>', 'folder of policy files, used when REDIS_URL is not set', 'policies')
    .action(async (opts: { routes: string; policies: string }) => {
      const env = loadEnv();
      const logger = createLogger(env.LOG_LEVEL);
      const routes = loadRoutes(opts.routes);
      const keys = loadKeyRing();
      const kafka = createKafka({ brokers: required(env, 'KAFKA_BROKERS'), clientId: 'masker', logger });
      const lookup = new CachedSchemaLookup(new RegistryClient({ url: required(env, 'SCHEMA_REGISTRY_URL') }));
      const metrics = new MaskerMetrics();
      let worker: RunningWorker | undefined;
      const health = env.METRICS_PORT === 0 ? undefined : await startHealthServer({
        port: env.METRICS_PORT,
        host: env.METRICS_HOST,
        metrics,
        readiness: () => (worker === undefined ? { ready: false, reason: 'worker starting' } : { ready: true }),
      });

      const auditSink = new KafkaAuditSink(kafka, env.MASKER_AUDIT_TOPIC, logger);
      let policies: OpenedPolicyProvider | undefined;
      const closeAll = async (): Promise<void> => {
        await Promise.allSettled([policies?.stop(), auditSink.stop(), health?.close()]);
      };
      try {
        await ensureTopics(kafka, [{ topic: env.MASKER_AUDIT_TOPIC }]);
        await auditSink.start();
        policies = await openPolicyProvider({
          routes,
          policiesDir: opts.policies,
          logger,
          onEvent: (event) => {
            auditSink.publish(event);
            if (event.type === 'policy-applied') metrics.policyVersion.set({ policy: event.policy.name }, event.policy.version);
          },
        });
        logger.info({ keyId: keys.active.id, policies: policies.description, routes: routes.map((r) => r.name), metricsPort: health?.port }, 'configuration loaded');
        worker = await startWorker({
          kafka, routes, lookup, keys, logger, metrics,
          policies: policies.provider,
          groupId: env.MASKER_GROUP_ID,
          auditTopic: env.MASKER_AUDIT_TOPIC,
          quarantineTopic: env.MASKER_QUARANTINE_TOPIC,
          maxRecordBytes: env.MASKER_MAX_RECORD_BYTES,
          maxBatchRecords: env.MASKER_BATCH_RECORDS,
          sessionTimeoutMs: env.MASKER_SESSION_TIMEOUT_MS,
        });
      } catch (err) {
        await closeAll();
        throw err;
      }
      const running = worker;
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string): void => {
          logger.info({ signal }, 'shutting down: leaving the group; an open transaction is aborted');
          running.stop().catch((err: unknown) => {
            logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
          }).finally(() => resolve());
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      });
      await closeAll();
    });
}
