import { Partitioners, type Consumer, type IHeaders, type Kafka, type KafkaMessage, type Message, type Producer, type Transaction } from 'kafkajs';
import type { Logger } from '../observability/logger.js';
import { shadowTopic, type CrossClusterOptions } from './cross-cluster.js';
import { CommittedPositions } from './positions.js';

export interface InboundRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders | undefined;
}

export interface OutboundMessage {
  readonly topic: string;
  /** Explicit partition; when absent, the default partitioner (murmur2 of the key) decides. */
  readonly partition?: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

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

type Cluster = 'source' | 'target';

/**
 * Exactly-once consume → transform → produce within one cluster. Per chunk of records: one Kafka
 * transaction holds every produced message and the consumer offset (sendOffsets), so the masked records,
 * their audit events and the source position commit together or not at all. Consumers of the outputs
 * must read committed (kafkajs' default). One transactional producer per assigned partition; each new one
 * fences its predecessor, then re-reads the committed position, so a worker that lost the partition in a
 * rebalance cannot make its successor deliver a chunk twice (see CommittedPositions).
 *
 * With `crossCluster`, per chunk: first the source-cluster messages (quarantine) in a source transaction,
 * then everything else plus the source position (committed for the group on the shadow topic) in a target
 * transaction, then — best effort — the source consumer offset. Records below the position stored in the
 * target cluster are dropped on arrival, so a crash between the two commits duplicates nothing on the target.
 */
export class TransactionalLoop {
  private consumer: Consumer;
  private readonly producers = new Map<string, Promise<Producer>>();
  private readonly maxBatchRecords: number;
  private readonly positions: CommittedPositions;
  /** The cluster whose transactions carry the source position: the target one in two-cluster mode. */
  private readonly positionCluster: Cluster;
  private readonly sourceClusterTopics: ReadonlySet<string>;
  private running = false;
  private recoveries = 0;

  constructor(private readonly options: TransactionalLoopOptions) {
    this.maxBatchRecords = options.maxBatchRecords ?? 500;
    const cross = options.crossCluster;
    this.positions = cross === undefined
      ? new CommittedPositions(options.kafka, options.groupId)
      : new CommittedPositions(cross.targetKafka, options.groupId, shadowTopic);
    this.positionCluster = cross === undefined ? 'source' : 'target';
    this.sourceClusterTopics = new Set(cross?.sourceClusterTopics ?? []);
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
    await this.dropProducers();
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
    consumer.on(consumer.events.GROUP_JOIN, () => this.positions.reset());
    return consumer;
  }

  private async recover(reason: string): Promise<void> {
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(this.recoveries, 5));
    this.recoveries += 1;
    this.options.logger.error({ reason, retryInMs: delay }, 'consumer stopped after an error kafkajs does not retry; recreating it');
    await this.dropProducers();
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
          await this.commitSourceOffset(batch.topic, batch.partition, lastOfBatch.offset, log);
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
          await this.commit(batch.topic, batch.partition, outputs, last.offset, log);
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

  private async commit(topic: string, partition: number, outputs: readonly OutboundMessage[], lastOffset: string, log: Logger): Promise<void> {
    const next = (BigInt(lastOffset) + 1n).toString();
    try {
      if (this.options.crossCluster === undefined) {
        await this.transact('source', topic, partition, outputs, { topic, next }, log);
      } else {
        const toSource = outputs.filter((o) => this.sourceClusterTopics.has(o.topic));
        const toTarget = outputs.filter((o) => !this.sourceClusterTopics.has(o.topic));
        // Quarantine first: a crash before the target commit redoes the chunk, so quarantined records can
        // repeat (at least once, de-duplicable by their source headers); target and audit cannot.
        if (toSource.length > 0) await this.transact('source', topic, partition, toSource, undefined, log);
        await this.transact('target', topic, partition, toTarget, { topic: shadowTopic(topic), next }, log);
      }
    } catch (err) {
      // The producer that knew the position is gone: the next one fences and reloads it.
      this.positions.forget(topic, partition);
      throw err;
    }
    this.positions.set(topic, partition, BigInt(next));
    await this.commitSourceOffset(topic, partition, lastOffset, log);
  }

  /** One transaction on one cluster: the messages, and the group's position on `offsets.topic` when given. */
  private async transact(
    cluster: Cluster, topic: string, partition: number, outputs: readonly OutboundMessage[],
    offsets: { topic: string; next: string } | undefined, log: Logger,
  ): Promise<void> {
    const id = this.transactionalId(topic, partition);
    const producer = await this.producerFor(cluster, id);
    let tx: Transaction;
    try {
      tx = await producer.transaction();
    } catch (err) {
      await this.dropProducer(cluster, id);
      throw err;
    }
    try {
      // Requests whose per-topic share stays under MAX_REQUEST_BYTES: the broker refuses record batches
      // larger than message.max.bytes (1 MiB by default), and 500 records' audit events alone can exceed it.
      for (const topicMessages of sliceBySize(groupByTopic(outputs), MAX_REQUEST_BYTES)) {
        await tx.sendBatch({ acks: -1, topicMessages });
      }
      if (offsets !== undefined) {
        await tx.sendOffsets({
          consumerGroupId: this.options.groupId,
          topics: [{ topic: offsets.topic, partitions: [{ partition, offset: offsets.next }] }],
        });
      }
      await tx.commit();
    } catch (err) {
      log.warn({ err: errorName(err), cluster }, 'transaction failed; aborting, the batch will be retried with a new producer');
      await tx.abort().catch(() => undefined);
      // A producer whose transaction failed can be left mid-state (e.g. after a broker restart it answers
      // CONCURRENT_TRANSACTIONS forever). A new one re-initialises with the same transactional id, which
      // fences the old one and completes or aborts its open transaction on the broker.
      await this.dropProducer(cluster, id);
      throw err;
    }
  }

  /** The records of `messages` at or above the committed position (the one stored in the target cluster in two-cluster mode). */
  private async undelivered(topic: string, partition: number, messages: KafkaMessage[], log: Logger): Promise<KafkaMessage[]> {
    const positions = this.positions;
    let next = positions.get(topic, partition);
    if (next === undefined) {
      // A fresh producer first: its initialisation completes or aborts the open transaction of whoever
      // held this partition before and fences it, so the position read next is final (no pending commit).
      const id = this.transactionalId(topic, partition);
      await this.dropProducer(this.positionCluster, id);
      await this.producerFor(this.positionCluster, id);
      next = await positions.load(topic, partition);
      log.info({ committedPosition: next.toString(), cluster: this.positionCluster }, 'source position loaded after fencing');
    }
    const from = next;
    const kept = messages.filter((m) => BigInt(m.offset) >= from);
    if (kept.length < messages.length) log.info({ skipped: messages.length - kept.length }, 'skipping records already delivered');
    return kept;
  }

  /** Two-cluster mode: moves the source group's offset too, so a restart starts near the stored position. */
  private async commitSourceOffset(topic: string, partition: number, lastOffset: string, log: Logger): Promise<void> {
    if (this.options.crossCluster === undefined) return;
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
    } catch (err) {
      // Not needed for correctness: the position in the target cluster decides what is delivered.
      log.debug({ err: errorName(err) }, 'source offset commit failed; the target cluster keeps the position');
    }
  }

  private transactionalId(topic: string, partition: number): string {
    return `${this.options.transactionalIdPrefix}-${topic}-${partition}`;
  }

  private async dropProducer(cluster: Cluster, id: string): Promise<void> {
    await this.dropProducerKey(`${cluster}:${id}`);
  }

  private async dropProducerKey(key: string): Promise<void> {
    const pending = this.producers.get(key);
    this.producers.delete(key);
    await pending?.then((p) => p.disconnect()).catch(() => undefined);
  }

  private async dropProducers(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((key) => this.dropProducerKey(key)));
  }

  private producerFor(cluster: Cluster, id: string): Promise<Producer> {
    const key = `${cluster}:${id}`;
    let pending = this.producers.get(key);
    if (pending === undefined) {
      const kafka = cluster === 'target' && this.options.crossCluster !== undefined ? this.options.crossCluster.targetKafka : this.options.kafka;
      const producer = kafka.producer({
        transactionalId: id,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.options.transactionTimeoutMs ?? 30_000,
        // The next transaction's AddPartitionsToTxn usually meets CONCURRENT_TRANSACTIONS while the broker
        // still writes the previous commit markers; with the client's default first backoff (~300 ms) that
        // wait dominated every transaction. Retry sooner, as the Java producer does (20 ms).
        retry: { initialRetryTime: 20, maxRetryTime: 5_000, retries: 15 },
        // Murmur2 on the key, as the Java client: a target keeps the source's key → partition mapping.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      pending = producer.connect().then(() => fence(producer));
      pending.catch(() => this.producers.delete(key));
      this.producers.set(key, pending);
    }
    return pending;
  }
}

/** Upper bound of one topic's record bytes in one produce request; under the broker's 1 MiB default
 *  message.max.bytes, which limits each partition's record batch. */
export const MAX_REQUEST_BYTES = 768 * 1024;

function messageBytes(m: Message): number {
  let size = 64 + (m.key?.length ?? 0) + (Buffer.isBuffer(m.value) ? m.value.length : 0);
  for (const [name, value] of Object.entries(m.headers ?? {})) size += name.length + (Buffer.isBuffer(value) ? value.length : String(value).length);
  return size;
}

/** Splits topic messages into requests of at most `limit` bytes each, keeping per-topic order. */
export function sliceBySize(groups: { topic: string; messages: Message[] }[], limit: number): { topic: string; messages: Message[] }[][] {
  // Each topic's messages are cut into runs of at most `limit` bytes; request k carries run k of every
  // topic. The broker's limit applies per partition batch, not per request, so topics share requests.
  const runsPerTopic = groups.map((group) => {
    const runs: Message[][] = [];
    let run: Message[] = [];
    let bytes = 0;
    for (const message of group.messages) {
      const size = messageBytes(message);
      if (bytes + size > limit && run.length > 0) {
        runs.push(run);
        run = [];
        bytes = 0;
      }
      run.push(message);
      bytes += size;
    }
    if (run.length > 0) runs.push(run);
    return { topic: group.topic, runs };
  });
  const requests: { topic: string; messages: Message[] }[][] = [];
  const count = Math.max(0, ...runsPerTopic.map((t) => t.runs.length));
  for (let k = 0; k < count; k++) {
    requests.push(runsPerTopic.flatMap((t) => (t.runs[k] === undefined ? [] : [{ topic: t.topic, messages: t.runs[k] as Message[] }])));
  }
  return requests;
}

/**
 * Initialises the producer's transactional id now rather than at its first transaction (kafkajs' connect()
 * does not: it only fetches a non-transactional producer id). The InitProducerId bumps the epoch, which
 * fences every older producer of this id and completes or aborts its open transaction before it returns.
 * An empty transaction's abort sends nothing.
 */
async function fence(producer: Producer): Promise<Producer> {
  const tx = await producer.transaction();
  await tx.abort();
  return producer;
}

function toInbound(topic: string, partition: number, m: KafkaMessage): InboundRecord {
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers: m.headers };
}

function groupByTopic(outputs: readonly OutboundMessage[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const o of outputs) {
    let list = byTopic.get(o.topic);
    if (list === undefined) byTopic.set(o.topic, (list = []));
    list.push({
      key: o.key,
      value: o.value,
      ...(o.partition === undefined ? {} : { partition: o.partition }),
      ...(o.headers === undefined ? {} : { headers: o.headers }),
    });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : typeof err;
}
