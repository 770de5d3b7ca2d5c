import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Route } from '../config/routes.js';
import { MaskerError } from '../errors.js';
import { shadowTopic } from '../kafka/cross-cluster.js';
import type { PartitionRange, ResolvedRange } from '../kafka/offset-range.js';
import { committedOffsets } from '../kafka/positions.js';
import { TransactionalLoop } from '../kafka/transactional-loop.js';
import { RouteHandler } from './route-handler.js';
import { routeHandlerOptions, type RouteWiring } from './route-wiring.js';
import { ensureRouteTopics, ensureSharedTopics } from './topics.js';

export interface ReplayOptions extends RouteWiring {
  /** Source cluster: the range is read here; quarantined records stay here. */
  readonly kafka: Kafka;
  /**
   * Separate target cluster (TARGET_KAFKA_BROKERS) for the re-masked records and their audit events. The
   * replay's position is then committed there, on the shadow topic, inside the target transaction.
   */
  readonly targetKafka?: Kafka;
  readonly route: Route;
  readonly range: ResolvedRange;
  /** Records per second, at most. Default: unlimited. */
  readonly rate?: number;
  /** Called after every commit with records done (of range.total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Resolves when the caller wants to stop (Ctrl-C): the open transaction is aborted, progress is kept. */
  readonly interrupted?: Promise<void>;
  /** Which run of this range (see {@link replayGroupId}): 1 (default) for the first, n for the n-th `--again`. */
  readonly run?: number;
  /** Records per transaction without `rate` (MASKER_BATCH_RECORDS). Default 500. */
  readonly maxBatchRecords?: number;
  /** Partitions re-masked at the same time, as `masker run` does (MASKER_PARTITION_CONCURRENCY). Default 2. */
  readonly partitionConcurrency?: number;
}

export interface ReplayResult {
  readonly done: number;
  readonly total: number;
  readonly interrupted: boolean;
  /** The run had already replayed the whole range before this call: nothing was written. */
  readonly alreadyDone: boolean;
}

/**
 * The consumer group of a replay run: derived from the route, the resolved range and the run number, so
 * running the same command again resumes where it stopped — the group's offsets commit in the same
 * transaction as the replayed records (in the target cluster's shadow topic with a separate target), so
 * nothing is written twice within a run. Run 1 is `masker-replay-<route>-<hash>`; run n (a deliberate
 * re-replay, `masker replay --again`) appends `-r<n>` and starts from the range's beginning with no memory
 * of earlier runs. It is never the live workers' group.
 */
export function replayGroupId(route: Route, range: ResolvedRange, run = 1): string {
  const spec = range.partitions.map((p) => `${p.partition}:${p.from}-${p.to}`).join(',');
  const base = `masker-replay-${route.name}-${createHash('sha256').update(`${range.topic}|${spec}`).digest('hex').slice(0, 12)}`;
  return run === 1 ? base : `${base}-r${run}`;
}

/**
 * The latest run of this range that was started (its group committed an offset on the source, or a stored
 * position on the target cluster's shadow topic), 0 when none was. Runs are numbered without gaps.
 */
export async function latestReplayRun(kafka: Kafka, targetKafka: Kafka | undefined, route: Route, range: ResolvedRange): Promise<number> {
  const started = async (run: number): Promise<boolean> => {
    const groupId = replayGroupId(route, range, run);
    if ((await committedOffsets(kafka, groupId, range.topic)).size > 0) return true;
    // Before the first run the target cluster has no shadow topic yet.
    return targetKafka !== undefined && (await committedOffsets(targetKafka, groupId, shadowTopic(range.topic), { mayNotExist: true })).size > 0;
  };
  let run = 0;
  while (await started(run + 1)) run++;
  return run;
}

/**
 * Re-masks a range of a route's source topic into its target with the current policy, exactly once and
 * in per-partition order, audit events marked `replayed`. Resumable: see {@link replayGroupId}.
 */
export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  const { kafka, route, range } = options;
  if (options.policies.policyFor(route) === undefined) {
    throw new MaskerError('MASKER_POLICY_MISSING', `route ${route.name}: policy "${route.policy}" not found; nothing replayed`);
  }
  const groupId = replayGroupId(route, range, options.run ?? 1);
  const bounds = new Map<number, PartitionRange>(range.partitions.map((p) => [p.partition, p]));
  await ensureRouteTopics(kafka, options.targetKafka, route);
  await ensureSharedTopics(kafka, options.targetKafka, options.auditTopic, options.quarantineTopic);
  const position = await startPositions(kafka, options.targetKafka, groupId, range);
  const total = Number(range.total);
  const doneCount = (): number => range.partitions.reduce((sum, p) => {
    const at = position.get(p.partition) ?? p.from;
    return sum + Number((at < p.to ? at : p.to) - p.from);
  }, 0);
  const finished = (): boolean => range.partitions.every((p) => (position.get(p.partition) ?? p.from) >= p.to);
  if (finished()) return { done: doneCount(), total, interrupted: false, alreadyDone: true };
  options.onProgress?.(doneCount(), total);

  const handler = new RouteHandler(routeHandlerOptions(options, route, { replayed: true, groupId }));
  const limiter = options.rate === undefined ? undefined : { rate: options.rate, started: performance.now(), sent: 0 };
  let complete: () => void = () => undefined;
  const completed = new Promise<void>((resolve) => { complete = resolve; });

  const loop = new TransactionalLoop({
    kafka,
    groupId,
    topics: [route.source.topic],
    transactionalIdPrefix: groupId,
    logger: options.logger,
    ...(options.targetKafka === undefined ? {} : {
      crossCluster: { targetKafka: options.targetKafka, sourceClusterTopics: [options.quarantineTopic] },
    }),
    // A crashed replay's member holds its partitions until its session expires: keep that short, so the
    // resumed run starts within seconds.
    sessionTimeoutMs: 6_000,
    // With a rate, small transactions keep the pace even; without one, replay runs at the worker's speed:
    // the same chunk size and partitions in flight as `masker run` (one partition at a time halved it).
    maxBatchRecords: options.rate === undefined
      ? options.maxBatchRecords ?? 500
      : Math.max(1, Math.min(options.maxBatchRecords ?? 500, Math.floor(options.rate / 4))),
    partitionConcurrency: options.partitionConcurrency ?? 2,
    handler: async (records) => {
      const inRange = records.filter((r) => BigInt(r.offset) < (bounds.get(r.partition)?.to ?? 0n) && BigInt(r.offset) >= (bounds.get(r.partition)?.from ?? 0n));
      if (limiter !== undefined && inRange.length > 0) {
        limiter.sent += inRange.length;
        const due = limiter.started + (limiter.sent / limiter.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      return inRange.length === 0 ? [] : handler.handle(inRange);
    },
    onCommit: (info) => {
      handler.committed(info.partition, info.lastOffset);
      position.set(info.partition, BigInt(info.lastOffset) + 1n);
      // A range that ends on a transaction marker never delivers its last offset: caught up is done too.
      const bound = bounds.get(info.partition);
      if (bound !== undefined && info.lag === 0 && BigInt(info.lastOffset) + 1n < bound.to) position.set(info.partition, bound.to);
      options.onProgress?.(doneCount(), total);
      if (finished()) complete();
    },
  });
  await loop.start();
  const interrupted = await Promise.race([completed.then(() => false), (options.interrupted ?? new Promise<never>(() => undefined)).then(() => true)]);
  await loop.stop();
  return { done: doneCount(), total, interrupted, alreadyDone: false };
}

/**
 * Where the replay group stands: its committed positions (on the target cluster's shadow topic with a
 * separate target), partitions it never committed at the range's `from`. Where the source consumer group
 * has no offset inside the range yet, it is set to start there. With a separate target the source offset
 * may lag the stored position (that commit is best effort): the loop drops records below the stored one.
 */
async function startPositions(kafka: Kafka, targetKafka: Kafka | undefined, groupId: string, range: ResolvedRange): Promise<Map<number, bigint>> {
  const consumerAt = await committedOffsets(kafka, groupId, range.topic);
  const stored = targetKafka === undefined ? consumerAt : await committedOffsets(targetKafka, groupId, shadowTopic(range.topic));
  const position = new Map<number, bigint>();
  for (const p of range.partitions) {
    const at = stored.get(p.partition);
    position.set(p.partition, at === undefined || at < p.from ? p.from : at);
  }
  // Only partitions this replay never started: a killed run's member may still hold the group for a few
  // seconds, and the broker refuses to move the offsets of a group with members.
  const moved = range.partitions.filter((p) => {
    const at = consumerAt.get(p.partition);
    return at === undefined || at < p.from;
  });
  if (moved.length > 0) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId, topic: range.topic, partitions: moved.map((p) => ({ partition: p.partition, offset: String(position.get(p.partition)) })) });
    } finally {
      await admin.disconnect();
    }
  }
  return position;
}
