import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';

/** Endpoints set by the integration global setup (or by the caller's environment). */
export function endpoints(): { brokers: string[]; registryUrl: string; redisUrl: string } {
  const brokers = process.env['KAFKA_BROKERS'];
  const registryUrl = process.env['SCHEMA_REGISTRY_URL'];
  const redisUrl = process.env['REDIS_URL'];
  if (brokers === undefined || registryUrl === undefined || redisUrl === undefined) {
    throw new Error('KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL must be set (the integration global setup does it)');
  }
  return { brokers: brokers.split(','), registryUrl, redisUrl };
}

/**
 * The second local cluster (two-cluster mode), when the global setup started it. Deliberately not
 * TARGET_KAFKA_BROKERS: that would switch every worker of the test run to two-cluster mode.
 */
export function targetBrokers(): string[] | undefined {
  const brokers = process.env['MASKER_TEST_TARGET_BROKERS'];
  return brokers === undefined || brokers === '' ? undefined : brokers.split(',');
}

/** The second local registry (for TARGET_SCHEMA_REGISTRY_URL), when the global setup started it. */
export function targetRegistryUrl(): string | undefined {
  const url = process.env['MASKER_TEST_TARGET_REGISTRY_URL'];
  return url === undefined || url === '' ? undefined : url;
}

export function testTargetKafka(): Kafka {
  const brokers = targetBrokers();
  if (brokers === undefined) throw new Error('MASKER_TEST_TARGET_BROKERS is not set (the integration global setup sets it)');
  return new Kafka({ clientId: unique('masker-test-target'), brokers, logLevel: logLevel.NOTHING });
}

/** A short unique suffix so every test gets its own topics, groups and keys. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testKafka(): Kafka {
  return new Kafka({ clientId: unique('masker-test'), brokers: endpoints().brokers, logLevel: logLevel.NOTHING });
}

export function testRegistry(): SchemaRegistry {
  return new SchemaRegistry({ host: endpoints().registryUrl });
}

/** A message for `produceAvro`: a record to encode, or bytes (a Buffer) sent as they are. */
export interface AvroMessage {
  readonly key?: string;
  readonly value: unknown;
  readonly timestamp?: string;
}

/**
 * Registers `schema` as the topic's value subject and produces the messages, each record encoded with it
 * in the Confluent wire format (a Buffer value is sent unchanged). Returns the schema id.
 */
export async function produceAvro(kafka: Kafka, registry: SchemaRegistry, topic: string, schema: object, messages: readonly AvroMessage[]): Promise<number> {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
  const encoded = await Promise.all(messages.map(async (m) => ({
    ...(m.key === undefined ? {} : { key: m.key }),
    value: Buffer.isBuffer(m.value) ? m.value : await registry.encode(id, m.value),
    ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp }),
  })));
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < encoded.length; i += 200) await producer.send({ topic, messages: encoded.slice(i, i + 200) });
  } finally {
    await producer.disconnect();
  }
  return id;
}

export async function createTopics(kafka: Kafka, topics: string[], numPartitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor: 1, configEntries })) });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

export interface ConsumedMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

/**
 * Reads a topic from the beginning (read committed) until `count` messages arrived (or `until` says it has
 * read enough) or the deadline passed. Then it keeps reading for `settleMs` to catch unexpected extra
 * messages (duplicates).
 */
export async function consumeAll(
  kafka: Kafka,
  topic: string,
  count: number,
  options: { timeoutMs?: number; settleMs?: number; until?: (messages: readonly ConsumedMessage[]) => boolean } = {},
): Promise<ConsumedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const settleMs = options.settleMs ?? 1_000;
  const done = options.until ?? ((m: readonly ConsumedMessage[]) => m.length >= count);
  const consumer = kafka.consumer({ groupId: unique('masker-test-reader'), readUncommitted: false, maxWaitTimeInMs: 250 });
  const messages: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`${topic}: got ${messages.length} of ${count} messages within ${timeoutMs} ms`)), timeoutMs);
      let settle: NodeJS.Timeout | undefined;
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          messages.push({ partition, offset: message.offset, key: message.key ?? null, value: message.value ?? null, headers: message.headers ?? {} });
          if (settle === undefined && done(messages)) {
            settle = setTimeout(() => { clearTimeout(deadline); resolve(); }, settleMs);
          }
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Sum of a consumer group's committed offsets over a topic's partitions (0 for partitions never committed). */
export async function committedCount(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
