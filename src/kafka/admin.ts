import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  readonly topic: string;
  /** Default: the partition count of `like` when given, else 1. */
  readonly numPartitions?: number;
}

/**
 * Creates missing topics (idempotent). Target topics get the source topic's partition count so that
 * per-partition order maps one to one. Replication factor -1 lets the broker use its default.
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.numPartitions ?? 1, replicationFactor: -1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Partition count of a topic, or undefined when it does not exist. */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) return undefined;
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length;
  } finally {
    await admin.disconnect();
  }
}
