import type { Kafka } from 'kafkajs';
import { required, type MaskerEnv } from '../config/env.js';
import { probeBrokers } from '../kafka/broker-probe.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../observability/logger.js';
import { RegistryClient } from '../registry/registry-client.js';
import { CachedSchemaLookup } from '../registry/schema-cache.js';

/** The clusters and registries a worker or a replay talks to, from the environment. */
export interface Clusters {
  /** Source cluster: the consumer group and the quarantine topic (raw records never leave it). */
  readonly kafka: Kafka;
  /** TARGET_KAFKA_BROKERS: masked records, audit, and the source positions. Absent: the source cluster. */
  readonly targetKafka: Kafka | undefined;
  /** Writer schemas by id from SCHEMA_REGISTRY_URL; masked schemas registered on TARGET_SCHEMA_REGISTRY_URL when set. */
  readonly lookup: CachedSchemaLookup;
  readonly mode: 'single-cluster' | 'two-cluster';
}

export function connectClusters(env: MaskerEnv, logger: Logger, clientId: string): Clusters {
  const kafka = createKafka({ brokers: required(env, 'KAFKA_BROKERS'), clientId, logger });
  const targetKafka = env.TARGET_KAFKA_BROKERS === undefined
    ? undefined
    : createKafka({ brokers: env.TARGET_KAFKA_BROKERS, clientId, logger });
  const sourceRegistry = new RegistryClient({ url: required(env, 'SCHEMA_REGISTRY_URL') });
  const targetRegistry = env.TARGET_SCHEMA_REGISTRY_URL === undefined ? sourceRegistry : new RegistryClient({ url: env.TARGET_SCHEMA_REGISTRY_URL });
  const lookup = new CachedSchemaLookup(sourceRegistry, targetRegistry, { logger });
  return { kafka, targetKafka, lookup, mode: targetKafka === undefined ? 'single-cluster' : 'two-cluster' };
}

/** Fails in seconds, naming the setting, when KAFKA_BROKERS (or TARGET_KAFKA_BROKERS) has no broker answering. */
export async function probeClusters(env: MaskerEnv): Promise<void> {
  await probeBrokers(required(env, 'KAFKA_BROKERS'), 'KAFKA_BROKERS');
  if (env.TARGET_KAFKA_BROKERS !== undefined) await probeBrokers(env.TARGET_KAFKA_BROKERS, 'TARGET_KAFKA_BROKERS');
}
