// Health check for the local stack: a real produce + consume round trip against one broker.
// Exit 0 when a freshly produced message is read back, 1 otherwise (fails fast when nothing listens).
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:19092';
const topic = '__masker_stack_ping';
const kafka = new Kafka({ clientId: 'masker-stack-ping', brokers: [broker], logLevel: logLevel.NOTHING,
  connectionTimeout: 1000, retry: { retries: 1, initialRetryTime: 200 } });
const marker = randomUUID();
const timer = setTimeout(() => { console.error('kafka ping: timed out'); process.exit(1); }, 30_000);

const admin = kafka.admin();
const producer = kafka.producer();
const consumer = kafka.consumer({ groupId: `masker-stack-ping-${marker}` });
try {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: marker }] });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => { if (message.value?.toString() === marker) resolve(); } });
  });
  clearTimeout(timer);
  await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  await admin.deleteGroups([`masker-stack-ping-${marker}`]).catch(() => {});
  await admin.disconnect();
  process.exit(0);
} catch (err) {
  console.error(`kafka ping: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
