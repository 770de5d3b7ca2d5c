import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../observability/logger.js';
import { commitStrategyFor, nextOffset, type ChunkEnd, type CommitStrategy } from './commit-strategy.js';
import type { CrossClusterOptions } from './cross-cluster.js';
import { errorName } from './error-name.js';
import type { InboundRecord, OutboundMessage } from './messages.js';
import { TransactionalProducerPool } from './producer-pool.js';

export type { InboundRecord, OutboundMessage } from './messages.js';

export interface CommitInfo {
  readonly topic: string;
  readonly partition: number;
  readonly records: number;
  readonly lastOffset: string;
  /** From handing the chunk to the handler to the transaction's commit. */
  readonly seconds: number;
  /** Records still to read in this partition after this commit (high watermark − next offset). */
  readonly lag: number;
}

/** Turns a chunk of consumed records (one partition, in order) into the messages to publish atomically. */
export type BatchHandler = (records: readonly InboundRecord[]) => Promise<readonly OutboundMessage[]>;

export interface TransactionalLoopOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Transactional ids are `<prefix>-<topic>-<partition>`: stable per partition, so a restarted worker fences its zombie. */
  readonly transactionalIdPrefix: string;
  readonly handler: BatchHandler;
  readonly logger: Logger;
  /** Records per transaction. Default 500. */
  readonly maxBatchRecords?: number;
  /**
   * Partitions handled at the same time (kafkajs' partitionsConsumedConcurrently). Each partition has its
   * own transactional producer, so their transactions overlap: one partition's records are masked while
   * another's commit waits on the broker. Order within a partition is unchanged. Default 1.
   */
  readonly partitionConcurrency?: number;
  /** Consumer session timeout. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  /** Transaction timeout the broker enforces for a crashed worker's open transaction. Default 30 s. */
  readonly transactionTimeoutMs?: number;
  /** Called after each committed transaction (metrics, tests). */
  readonly onCommit?: (info: CommitInfo) => void;
  /** Two-cluster mode (see cross-cluster.ts). Absent: everything in `kafka`, one transaction per chunk. */
  readonly crossCluster?: CrossClusterOptions;
}

/**
 * Exactly-once consume → transform → produce. Per chunk of records of one partition, the commit strategy
 * publishes the handler's outputs and the source position atomically (commit-strategy.ts):
 *
 * - One cluster: one Kafka transaction holds every produced message and the consumer offset (sendOffsets),
 *   so the masked records, their audit events and the source position commit together or not at all.
 * - Two clusters (`crossCluster`): first the source-cluster messages (quarantine) in a source transaction,
 *   then everything else plus the source position (committed for the group on the shadow topic) in a target
 *   transaction, then — best effort — the source consumer offset. Records below the position stored in the
 *   target cluster are dropped on arrival, so a crash between the two commits duplicates nothing on the target.
 *
 * Consumers of the outputs must read committed (kafkajs' default). One transactional producer per assigned
 * partition (producer-pool.ts); each new one fences its predecessor, then the committed position is re-read,
 * so a worker that lost the partition in a rebalance cannot make its successor deliver a chunk twice (see
 * CommittedPositions).
 */
export class TransactionalLoop {
  private consumer: Consumer;
  private readonly producers: TransactionalProducerPool;
  private readonly strategy: CommitStrategy;
  private readonly maxBatchRecords: number;
  private running = false;
  private recoveries = 0;

  constructor(private readonly options: TransactionalLoopOptions) {
    this.maxBatchRecords = options.maxBatchRecords ?? 500;
    this.producers = new TransactionalProducerPool({
      kafka: options.kafka,
      targetKafka: options.crossCluster?.targetKafka,
      transactionalIdPrefix: options.transactionalIdPrefix,
      transactionTimeoutMs: options.transactionTimeoutMs,
    });
    this.strategy = commitStrategyFor({ kafka: options.kafka, groupId: options.groupId, producers: this.producers, crossCluster: options.crossCluster });
    this.consumer = this.createConsumer();
  }

  async start(): Promise<void> {
    this.running = true;
    await this.runConsumer();
  }

  /** Leaves the group cleanly; an in-flight transaction is aborted by the broker's fencing or timeout. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
    await this.producers.dropAll();
  }

  private createConsumer(): Consumer {
    const session = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      readUncommitted: false,
      sessionTimeout: session,
      rebalanceTimeout: Math.max(session, 10_000),
      heartbeatInterval: Math.max(500, Math.floor(session / 10)),
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    // kafkajs restarts its consumer after retriable errors only; after any other crash (e.g. the group
    // coordinator not found while a broker restarts) it stays stopped. A worker that silently stops
    // consuming is worse than a noisy one: recreate the consumer with backoff.
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || !this.running) return;
      void this.recover(errorName(event.payload.error));
    });
    // A new generation may have given our partitions to another worker and back: reload their positions.
    consumer.on(consumer.events.GROUP_JOIN, () => this.strategy.positions.reset());
    return consumer;
  }

  private async recover(reason: string): Promise<void> {
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(this.recoveries, 5));
    this.recoveries += 1;
    this.options.logger.error({ reason, retryInMs: delay }, 'consumer stopped after an error kafkajs does not retry; recreating it');
    await this.producers.dropAll();
    await new Promise((r) => setTimeout(r, delay));
    if (!this.running) return;
    this.consumer = this.createConsumer();
    try {
      await this.runConsumer();
    } catch (err) {
      await this.recover(errorName(err));
    }
  }

  private async runConsumer(): Promise<void> {
    const consumer = this.consumer;
    await consumer.connect();
    for (const topic of this.options.topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionConcurrency ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const log = this.options.logger.child({ topic: batch.topic, partition: batch.partition });
        const messages = await this.undelivered(batch.topic, batch.partition, batch.messages, log);
        const lastOfBatch = batch.messages[batch.messages.length - 1];
        if (messages.length === 0 && lastOfBatch !== undefined) {
          resolveOffset(lastOfBatch.offset);
          await this.strategy.commitSourceOffset(this.consumer, { topic: batch.topic, partition: batch.partition, lastOffset: lastOfBatch.offset }, log);
          return;
        }
        for (let i = 0; i < messages.length; i += this.maxBatchRecords) {
          if (!isRunning() || isStale()) return;
          const chunk = messages.slice(i, i + this.maxBatchRecords);
          const last = chunk[chunk.length - 1];
          if (last === undefined) return;
          const started = process.hrtime.bigint();
          const records = chunk.map((m) => toInbound(batch.topic, batch.partition, m));
          const outputs = await this.options.handler(records);
          const handled = process.hrtime.bigint();
          await this.commit({ topic: batch.topic, partition: batch.partition, lastOffset: last.offset }, outputs, log);
          this.recoveries = 0;
          resolveOffset(last.offset);
          const committed = process.hrtime.bigint();
          const seconds = Number(committed - started) / 1e9;
          const lag = Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n));
          log.debug({ records: chunk.length, handleMs: Number(handled - started) / 1e6, commitMs: Number(committed - handled) / 1e6, lag }, 'chunk committed');
          this.options.onCommit?.({ topic: batch.topic, partition: batch.partition, records: chunk.length, lastOffset: last.offset, seconds, lag });
          await heartbeat();
        }
      },
    });
  }

  private async commit(chunk: ChunkEnd, outputs: readonly OutboundMessage[], log: Logger): Promise<void> {
    const next = BigInt(nextOffset(chunk));
    try {
      await this.strategy.commit(chunk, outputs, log);
    } catch (err) {
      // The producer that knew the position is gone: the next one fences and reloads it.
      this.strategy.positions.forget(chunk.topic, chunk.partition);
      throw err;
    }
    this.strategy.positions.set(chunk.topic, chunk.partition, next);
    await this.strategy.commitSourceOffset(this.consumer, chunk, log);
  }

  /** The records of `messages` at or above the committed position (the one stored in the target cluster in two-cluster mode). */
  private async undelivered(topic: string, partition: number, messages: KafkaMessage[], log: Logger): Promise<KafkaMessage[]> {
    const { positions, positionCluster } = this.strategy;
    let next = positions.get(topic, partition);
    if (next === undefined) {
      // A fresh producer first: its initialisation completes or aborts the open transaction of whoever
      // held this partition before and fences it, so the position read next is final (no pending commit).
      await this.producers.drop(positionCluster, topic, partition);
      await this.producers.producer(positionCluster, topic, partition);
      next = await positions.load(topic, partition);
      log.info({ committedPosition: next.toString(), cluster: positionCluster }, 'source position loaded after fencing');
    }
    const from = next;
    const kept = messages.filter((m) => BigInt(m.offset) >= from);
    if (kept.length < messages.length) log.info({ skipped: messages.length - kept.length }, 'skipping records already delivered');
    return kept;
  }
}

function toInbound(topic: string, partition: number, m: KafkaMessage): InboundRecord {
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers: m.headers };
}
