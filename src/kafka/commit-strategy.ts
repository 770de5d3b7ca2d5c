import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger.js';
import { splitByCluster } from './cluster-routing.js';
import { shadowTopic, type CrossClusterOptions } from './cross-cluster.js';
import { errorName } from './error-name.js';
import { CommittedPositions } from './positions.js';
import type { Cluster, PartitionProducers } from './producer-pool.js';
import { produceRequests } from './produce-requests.js';
import type { OutboundMessage } from './messages.js';

/** A handled chunk of one source partition: where it ends, and the source offset to resume from. */
export interface ChunkEnd {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the chunk's last record. */
  readonly lastOffset: string;
}

/** How a chunk's outputs and its source position are committed: one cluster or two. */
export interface CommitStrategy {
  /** The cluster whose transactions carry the source position: the target one in two-cluster mode. */
  readonly positionCluster: Cluster;
  /** Where that position is stored and read back from. */
  readonly positions: CommittedPositions;
  /** Publishes the chunk's outputs and moves the source position past it, atomically on the position's cluster. */
  commit(chunk: ChunkEnd, outputs: readonly OutboundMessage[], log: Logger): Promise<void>;
  /** After a chunk is committed (or skipped as already delivered): the source group's own offset, best effort. */
  commitSourceOffset(consumer: Pick<Consumer, 'commitOffsets'>, chunk: ChunkEnd, log: Logger): Promise<void>;
}

export interface CommitStrategyOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly producers: PartitionProducers;
  readonly crossCluster?: CrossClusterOptions | undefined;
}

export function commitStrategyFor(options: CommitStrategyOptions): CommitStrategy {
  const cross = options.crossCluster;
  return cross === undefined
    ? new SingleClusterCommit(options.producers, options.groupId, new CommittedPositions(options.kafka, options.groupId))
    : new TwoClusterCommit(options.producers, options.groupId, new CommittedPositions(cross.targetKafka, options.groupId, shadowTopic), cross.sourceClusterTopics);
}

/** One cluster: records, audit, quarantine and the consumer offset (sendOffsets) in one transaction. */
export class SingleClusterCommit implements CommitStrategy {
  readonly positionCluster: Cluster = 'source';

  constructor(private readonly producers: PartitionProducers, private readonly groupId: string, readonly positions: CommittedPositions) {}

  async commit(chunk: ChunkEnd, outputs: readonly OutboundMessage[], log: Logger): Promise<void> {
    await transact(this.producers, this.groupId, 'source', chunk, outputs, chunk.topic, log);
  }

  async commitSourceOffset(): Promise<void> {
    // The transaction committed it.
  }
}

/**
 * Two clusters (see cross-cluster.ts): first the source-cluster outputs (quarantine) in a source transaction,
 * then the target outputs (records, audit) plus the source position, committed for the group on the shadow
 * topic, in a target transaction; then, best effort, the source consumer offset.
 */
export class TwoClusterCommit implements CommitStrategy {
  readonly positionCluster: Cluster = 'target';
  private readonly sourceClusterTopics: ReadonlySet<string>;

  constructor(
    private readonly producers: PartitionProducers, private readonly groupId: string, readonly positions: CommittedPositions,
    sourceClusterTopics: readonly string[],
  ) {
    this.sourceClusterTopics = new Set(sourceClusterTopics);
  }

  async commit(chunk: ChunkEnd, outputs: readonly OutboundMessage[], log: Logger): Promise<void> {
    const { source, target } = splitByCluster(outputs, this.sourceClusterTopics);
    // Quarantine first: a crash before the target commit redoes the chunk, so quarantined records can
    // repeat (at least once, de-duplicable by their source headers); target and audit cannot.
    if (source.length > 0) await transact(this.producers, this.groupId, 'source', chunk, source, undefined, log);
    await transact(this.producers, this.groupId, 'target', chunk, target, shadowTopic(chunk.topic), log);
  }

  async commitSourceOffset(consumer: Pick<Consumer, 'commitOffsets'>, chunk: ChunkEnd, log: Logger): Promise<void> {
    try {
      await consumer.commitOffsets([{ topic: chunk.topic, partition: chunk.partition, offset: nextOffset(chunk) }]);
    } catch (err) {
      // Not needed for correctness: the position in the target cluster decides what is delivered.
      log.debug({ err: errorName(err) }, 'source offset commit failed; the target cluster keeps the position');
    }
  }
}

/**
 * One transaction on one cluster with the chunk partition's producer: the messages, then — when
 * `offsetsTopic` is given — the group's position past the chunk on that topic, then the commit.
 */
async function transact(
  producers: PartitionProducers, groupId: string, cluster: Cluster, chunk: ChunkEnd,
  outputs: readonly OutboundMessage[], offsetsTopic: string | undefined, log: Logger,
): Promise<void> {
  const { topic, partition } = chunk;
  const producer = await producers.producer(cluster, topic, partition);
  let tx;
  try {
    tx = await producer.transaction();
  } catch (err) {
    await producers.drop(cluster, topic, partition);
    throw err;
  }
  try {
    for (const topicMessages of produceRequests(outputs)) {
      await tx.sendBatch({ acks: -1, topicMessages });
    }
    if (offsetsTopic !== undefined) {
      await tx.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: offsetsTopic, partitions: [{ partition, offset: nextOffset(chunk) }] }],
      });
    }
    await tx.commit();
  } catch (err) {
    log.warn({ err: errorName(err), cluster }, 'transaction failed; aborting, the batch will be retried with a new producer');
    await tx.abort().catch(() => undefined);
    // A producer whose transaction failed can be left mid-state (e.g. after a broker restart it answers
    // CONCURRENT_TRANSACTIONS forever). A new one re-initialises with the same transactional id, which
    // fences the old one and completes or aborts its open transaction on the broker.
    await producers.drop(cluster, topic, partition);
    throw err;
  }
}

/** The source offset after the chunk. */
export function nextOffset(chunk: ChunkEnd): string {
  return (BigInt(chunk.lastOffset) + 1n).toString();
}
