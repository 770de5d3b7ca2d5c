import type { Kafka } from 'kafkajs';
import type { Route } from '../config/routes.js';
import { MaskerError } from '../errors.js';
import { TransactionalLoop, type CommitInfo } from '../kafka/transactional-loop.js';
import { RouteHandler } from './route-handler.js';
import { routeHandlerOptions, type RouteWiring } from './route-wiring.js';
import { StatusLine } from './status-line.js';
import { ensureRouteTopics, ensureSharedTopics } from './topics.js';

export interface WorkerOptions extends RouteWiring {
  /** Source cluster: consumer group, quarantine topic. */
  readonly kafka: Kafka;
  /**
   * Separate target cluster for target topics and audit (TARGET_KAFKA_BROKERS). Absent: the source
   * cluster, one transaction per chunk. Present: the source positions are stored in the target cluster.
   */
  readonly targetKafka?: Kafka;
  readonly routes: readonly Route[];
  readonly groupId: string;
  /** Records per transaction. Default 500. */
  readonly maxBatchRecords?: number;
  /** Partitions masked at the same time, each in its own transaction. Default 1. */
  readonly partitionConcurrency?: number;
  /** Consumer session timeout. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  readonly onCommit?: (info: CommitInfo) => void;
  /** Milliseconds between the per-route status lines (records committed, quarantined, lag). 0: none. Default 0. */
  readonly statusIntervalMs?: number;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * Starts one consumer-group member for all routes. Refuses to start when a route has no policy
 * (consume nothing rather than guess) or a source topic does not exist. Creates missing target, audit
 * and quarantine topics; a target gets its source's partition count. Target and audit topics (and, in
 * two-cluster mode, the shadow topics holding source positions) go to the target cluster, quarantine to
 * the source cluster.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { kafka, routes, logger } = options;
  const handlers = new Map<string, RouteHandler>();
  const status = new StatusLine(logger, routes.map((r) => r.name), options.statusIntervalMs ?? 0);
  for (const route of routes) {
    if (options.policies.policyFor(route) === undefined) {
      throw new MaskerError('MASKER_POLICY_MISSING', `route ${route.name}: policy "${route.policy}" not found; refusing to consume`);
    }
    await ensureRouteTopics(kafka, options.targetKafka, route);
    handlers.set(route.source.topic, new RouteHandler(routeHandlerOptions(options, route, {
      groupId: options.groupId,
      onQuarantined: (count) => status.quarantined(route.name, count),
    })));
  }
  await ensureSharedTopics(kafka, options.targetKafka, options.auditTopic, options.quarantineTopic);

  const loop = new TransactionalLoop({
    kafka,
    groupId: options.groupId,
    topics: routes.map((r) => r.source.topic),
    transactionalIdPrefix: `masker-${options.groupId}`,
    logger,
    ...(options.targetKafka === undefined ? {} : {
      crossCluster: { targetKafka: options.targetKafka, sourceClusterTopics: [options.quarantineTopic] },
    }),
    ...(options.maxBatchRecords === undefined ? {} : { maxBatchRecords: options.maxBatchRecords }),
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
    ...(options.partitionConcurrency === undefined ? {} : { partitionConcurrency: options.partitionConcurrency }),
    onCommit: (info) => {
      options.metrics?.batchSeconds.observe({ route: handlers.get(info.topic)?.route.name ?? info.topic }, info.seconds);
      options.metrics?.consumerLag.set({ topic: info.topic, partition: String(info.partition) }, info.lag);
      const handler = handlers.get(info.topic);
      handler?.committed(info.partition, info.lastOffset);
      if (handler !== undefined) status.committed(handler.route.name, info);
      options.onCommit?.(info);
    },
    handler: async (records) => {
      const first = records[0];
      const handler = first === undefined ? undefined : handlers.get(first.topic);
      if (handler === undefined) return [];
      return handler.handle(records);
    },
  });
  await loop.start();
  status.start();
  const mode = options.targetKafka === undefined ? 'single-cluster' : 'two-cluster';
  logger.info({ routes: routes.map((r) => r.name), groupId: options.groupId, mode }, 'worker started');
  return {
    stop: async () => {
      status.stop();
      await loop.stop();
      logger.info('worker stopped');
    },
  };
}
