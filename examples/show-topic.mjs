#!/usr/bin/env node
// Prints a topic's records, decoded: Avro (Confluent wire format) via the schema registry, else UTF-8.
// Usage: node examples/show-topic.mjs TOPIC [MAX=20]    (env: KAFKA_BROKERS, SCHEMA_REGISTRY_URL)
// Reads committed records only, from the beginning, and exits after 3 s without a new record.
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

const [topic, maxArg] = process.argv.slice(2);
if (!topic) {
  console.error('usage: node examples/show-topic.mjs TOPIC [MAX]');
  process.exit(2);
}
const max = Number(maxArg ?? 20);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const registry = new SchemaRegistry({ host: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081' });
const kafka = new Kafka({ clientId: 'masker-show-topic', brokers, logLevel: logLevel.NOTHING });
const groupId = `masker-show-${randomUUID()}`;
const consumer = kafka.consumer({ groupId });

const decode = async (buf) => {
  if (buf === null) return null;
  if (buf.length > 5 && buf[0] === 0) {
    try { return await registry.decode(buf); } catch { /* not Avro after all */ }
  }
  const text = buf.toString('utf8');
  try { return JSON.parse(text); } catch { return text; }
};

let seen = 0;
let idle;
const done = async () => {
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.disconnect();
  process.exit(0);
};
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
idle = setTimeout(done, 5000);
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    clearTimeout(idle);
    const key = await decode(message.key);
    const value = await decode(message.value);
    console.log(JSON.stringify({ partition, offset: message.offset, key, value }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    seen += 1;
    if (seen >= max) await done();
    idle = setTimeout(done, 3000);
  },
});
