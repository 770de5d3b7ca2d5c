import type { Kafka } from 'kafkajs';

/**
 * Two-cluster mode of the transactional loop: the source consumer group runs on the source cluster, the
 * masked records and audit events are produced to a separate target cluster. A Kafka transaction cannot
 * span clusters, so the source position is stored in the TARGET cluster, inside the target transaction
 * (as MirrorMaker 2's exactly-once source support does): `sendOffsets` for the consumer group on a
 * masker-internal "shadow" topic `masker.offsets.<source topic>` that exists on the target cluster only so
 * the broker accepts the commit. That stored position is the truth; records below it are dropped
 * (CommittedPositions).
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
