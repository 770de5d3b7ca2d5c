import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/** Which cluster a producer (or an output) belongs to. One cluster: everything is 'source'. */
export type Cluster = 'source' | 'target';

/** What a commit strategy needs of the pool: a partition's producer on a cluster, and a way to discard it. */
export interface PartitionProducers {
  /** The partition's transactional producer, created, connected and fenced on first use. */
  producer(cluster: Cluster, topic: string, partition: number): Promise<TransactionalProducer>;
  /** Disconnects and forgets it: the next `producer` call creates one that fences this one. */
  drop(cluster: Cluster, topic: string, partition: number): Promise<void>;
}

/** The part of a kafkajs producer the commit strategies use (fakes in unit tests implement just this). */
export type TransactionalProducer = Pick<Producer, 'transaction'>;

export interface ProducerPoolOptions {
  /** Client of the source cluster (the only one in one-cluster mode). */
  readonly kafka: Kafka;
  /** Client of the target cluster in two-cluster mode. */
  readonly targetKafka?: Kafka | undefined;
  /** Transactional ids are `<prefix>-<topic>-<partition>`, the same in both clusters. */
  readonly transactionalIdPrefix: string;
  /** Transaction timeout the broker enforces for a crashed worker's open transaction. Default 30 s. */
  readonly transactionTimeoutMs?: number | undefined;
}

/**
 * One transactional producer per (cluster, source partition). The id is stable per partition, so a restarted
 * or rebalanced worker's new producer fences its predecessor. Each producer initialises its transactional id
 * when created (see `fence`), not at its first transaction.
 */
export class TransactionalProducerPool implements PartitionProducers {
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(private readonly options: ProducerPoolOptions) {}

  transactionalId(topic: string, partition: number): string {
    return `${this.options.transactionalIdPrefix}-${topic}-${partition}`;
  }

  producer(cluster: Cluster, topic: string, partition: number): Promise<Producer> {
    const id = this.transactionalId(topic, partition);
    const key = `${cluster}:${id}`;
    let pending = this.producers.get(key);
    if (pending === undefined) {
      const kafka = cluster === 'target' && this.options.targetKafka !== undefined ? this.options.targetKafka : this.options.kafka;
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

  async drop(cluster: Cluster, topic: string, partition: number): Promise<void> {
    await this.dropKey(`${cluster}:${this.transactionalId(topic, partition)}`);
  }

  async dropAll(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((key) => this.dropKey(key)));
  }

  private async dropKey(key: string): Promise<void> {
    const pending = this.producers.get(key);
    this.producers.delete(key);
    await pending?.then((p) => p.disconnect()).catch(() => undefined);
  }
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
