import type { Kafka } from 'kafkajs';

/**
 * Two-cluster mode of the transactional loop: the source consumer group runs on the source cluster, the
 * masked records and audit events are produced to a separate target cluster. A Kafka transaction cannot
 * span clusters, so the source position is stored in the TARGET cluster, inside the target transaction
 * (as MirrorMaker 2's exactly-once source support does): `sendOffsets` for the consumer group on a
 * masker-internal "shadow" topic `masker.offsets.<source topic>` that exists on the target cluster only so
 * the broker accepts the commit. That stored position is the truth; records below it are dropped.
 */
export interface CrossClusterOptions {
  /** Client of the target cluster: producers of everything not routed to the source, stored positions. */
  readonly targetKafka: Kafka;
  /** Topics that live on the SOURCE cluster (the quarantine topic: raw records never leave the source). */
  readonly sourceClusterTopics: readonly string[];
}

const SHADOW_PREFIX = 'masker.offsets.';

/** The target-cluster topic under which the source positions of `sourceTopic` are committed. */
export function shadowTopic(sourceTopic: string): string {
  return `${SHADOW_PREFIX}${sourceTopic}`;
}

/**
 * Next offset to deliver per source partition, as committed in the target cluster. Loaded lazily once per
 * partition per group generation (`reset` on every join), updated after each own commit.
 */
export class StoredPositions {
  private readonly next = new Map<string, bigint>();

  constructor(private readonly targetKafka: Kafka, private readonly groupId: string) {}

  get(topic: string, partition: number): bigint | undefined {
    return this.next.get(key(topic, partition));
  }

  set(topic: string, partition: number, next: bigint): void {
    this.next.set(key(topic, partition), next);
  }

  forget(topic: string, partition: number): void {
    this.next.delete(key(topic, partition));
  }

  reset(): void {
    this.next.clear();
  }

  /**
   * Reads the committed position of one partition from the target cluster (0 when none). The caller must
   * first initialise this partition's target producer: that completes or aborts a predecessor's open
   * transaction, so the position read afterwards is final. Hence one partition at a time, never a
   * neighbour's position read ahead of its own producer's initialisation.
   */
  async load(topic: string, partition: number): Promise<bigint> {
    const admin = this.targetKafka.admin();
    await admin.connect();
    let stored = 0n;
    try {
      const offsets = await admin.fetchOffsets({ groupId: this.groupId, topics: [shadowTopic(topic)] });
      const found = offsets.flatMap((t) => t.partitions).find((p) => p.partition === partition);
      if (found !== undefined && BigInt(found.offset) > 0n) stored = BigInt(found.offset);
    } finally {
      await admin.disconnect();
    }
    this.set(topic, partition, stored);
    return stored;
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
