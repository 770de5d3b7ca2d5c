import type { Kafka } from 'kafkajs';
import type { Route } from '../config/routes.js';
import { MaskerError } from '../errors.js';
import { ensureTopics, partitionCount } from '../kafka/admin.js';
import { shadowTopic } from '../kafka/cross-cluster.js';

/**
 * Creates what a route writes to, where it belongs: the target topic with the source's partition count
 * (per-partition order maps one to one) and, with a separate target cluster, the shadow topic on which the
 * source positions are committed there. Refuses a route whose source topic does not exist.
 */
export async function ensureRouteTopics(kafka: Kafka, targetKafka: Kafka | undefined, route: Route): Promise<void> {
  const partitions = await partitionCount(kafka, route.source.topic);
  if (partitions === undefined) {
    throw new MaskerError('MASKER_CONFIG', `route ${route.name}: source topic ${route.source.topic} does not exist`);
  }
  await ensureTopics(targetKafka ?? kafka, [
    { topic: route.target.topic, numPartitions: partitions },
    // The broker accepts offset commits only for a topic it knows.
    ...(targetKafka === undefined ? [] : [{ topic: shadowTopic(route.source.topic), numPartitions: partitions }]),
  ]);
}

/** The audit topic on the output cluster; the quarantine topic on the source cluster (it holds raw records). */
export async function ensureSharedTopics(kafka: Kafka, targetKafka: Kafka | undefined, auditTopic: string, quarantineTopic: string): Promise<void> {
  await ensureTopics(targetKafka ?? kafka, [{ topic: auditTopic }]);
  await ensureTopics(kafka, [{ topic: quarantineTopic }]);
}
