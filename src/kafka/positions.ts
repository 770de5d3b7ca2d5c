import type { Kafka } from 'kafkajs';

/**
 * The next source offset to deliver per partition, as committed for the consumer group — the floor below
 * which a record has already been delivered. Records below it are dropped on arrival.
 *
 * Why the loop keeps its own copy rather than trusting the consumer's fetch position: kafkajs speaks
 * TxnOffsetCommit without the group generation (no KIP-447), so a worker that lost a partition in a
 * rebalance can still commit a transaction for it. The new owner's consumer may have read the committed
 * offset before that late commit landed. Fencing closes the window only if the position is read AFTER the
 * new owner's transactional producer has initialised (which completes or aborts the predecessor's open
 * transaction and fences it): so a position is loaded once per producer, one partition at a time, never
 * read ahead of that partition's producer initialisation.
 *
 * Where the position lives: the group's offset of `positionTopic(sourceTopic)` on `kafka` — the source
 * topic itself on one cluster, a shadow topic on the target cluster in two-cluster mode.
 */
export class CommittedPositions {
  private readonly next = new Map<string, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly positionTopic: (sourceTopic: string) => string = (topic) => topic,
  ) {}

  get(topic: string, partition: number): bigint | undefined {
    return this.next.get(key(topic, partition));
  }

  set(topic: string, partition: number, next: bigint): void {
    this.next.set(key(topic, partition), next);
  }

  /** After a failed commit: the producer is gone, so is the guarantee that the copy is current. */
  forget(topic: string, partition: number): void {
    this.next.delete(key(topic, partition));
  }

  /** On every group join: a partition may have been someone else's in between. */
  reset(): void {
    this.next.clear();
  }

  /** Reads the committed position of one partition (0 when none). Initialise its producer first. */
  async load(topic: string, partition: number): Promise<bigint> {
    const stored = (await committedOffsets(this.kafka, this.groupId, this.positionTopic(topic))).get(partition) ?? 0n;
    this.set(topic, partition, stored);
    return stored;
  }
}

/** A group's committed offsets of one topic, by partition; partitions without one are absent. */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string, options: { readonly mayNotExist?: boolean } = {}): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A topic that does not exist (yet) holds no committed offsets; fetchOffsets would fail on its metadata.
    if (options.mayNotExist === true && !(await admin.listTopics()).includes(topic)) return new Map();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const offsets = new Map<number, bigint>();
    for (const p of committed.flatMap((t) => t.partitions)) if (BigInt(p.offset) >= 0n) offsets.set(p.partition, BigInt(p.offset));
    return offsets;
  } finally {
    await admin.disconnect();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
