import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Partitioners, type Kafka } from 'kafkajs';
import type { AuditEvent } from '../../audit/audit-event.js';
import { AuditIndex, auditedRecords } from '../../audit/audit-index.js';
import { parseAuditEvent, recordsAccountedFor } from '../../audit/audit-parse.js';
import { loadEnv, required } from '../../config/env.js';
import { MaskerError } from '../../errors.js';
import { loadRoutes, type Route } from '../../config/routes.js';
import { loadKeyRing, parseKeyRing } from '../../config/secrets.js';
import { createKafka } from '../../kafka/client.js';
import { localStackEnv } from '../local-stack.js';
import { readableType, toReadable } from '../tail/readable-avro.js';
import { readTopic } from '../../kafka/read-topic.js';
import { createLogger } from '../../observability/logger.js';
import { FilePolicyStore } from '../../policy/file-policy-store.js';
import { RegistryClient } from '../../registry/registry-client.js';
import { CachedSchemaLookup, parseSchema, type ResolvedSchema } from '../../registry/schema-cache.js';
import { readFrame, writeFrame } from '../../registry/wire-format.js';
import { startWorker } from '../../worker/worker.js';
import { generateShop, type CdcEvent } from './cdc-generator.js';
import { renderDemo, type DemoResult } from './demo-report.js';

/** The demo's files: schemas, routes and policy, shipped in examples/demo/. */
const DEMO_DIR = fileURLToPath(new URL('../../../examples/demo/', import.meta.url));
const DEMO_SECRET = 'masker-demo-secret-not-for-production';

export interface DemoOptions {
  readonly customers: number;
  readonly out: NodeJS.WritableStream;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('seed a Debezium-shaped CDC stream (customers, orders), mask it live, and show source, masked and audit side by side')
    .option('--customers <n>', 'customers to generate (each with 2 orders)', '6')
    .action(async (opts: { customers: string }) => {
      const customers = Number(opts.customers);
      if (!Number.isInteger(customers) || customers < 2 || customers > 10_000) {
        throw new MaskerError('MASKER_INPUT', `--customers: expected an integer between 2 and 10000, got "${opts.customers}"`);
      }
      await runDemo({ customers, out: process.stdout });
    });
}

/**
 * Seeds the demo topics, masks them with a worker, reads everything back. Endpoints: KAFKA_BROKERS and
 * SCHEMA_REGISTRY_URL when set; otherwise the local stack, started by `deploy/local/stack.sh up` when it
 * does not answer yet (as the integration tests' setup does), so `npm ci && npm run demo` works on a fresh
 * machine.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const env = loadEnv({ ...process.env, ...localStackEnv(process.env, { required: ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL'] }) });
  const brokers = required(env, 'KAFKA_BROKERS');
  const registryUrl = required(env, 'SCHEMA_REGISTRY_URL');
  const keys = process.env['MASKER_SECRET'] !== undefined || process.env['MASKER_SECRET_FILE'] !== undefined
    ? loadKeyRing()
    : parseKeyRing(DEMO_SECRET, 'demo secret');
  const logger = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  const kafka = createKafka({ brokers, clientId: 'masker-demo', logger });
  const registry = new RegistryClient({ url: registryUrl });
  const routes = loadRoutes(`${DEMO_DIR}topics`);
  const [customersRoute, ordersRoute] = [byName(routes, 'demo-customers'), byName(routes, 'demo-orders')];
  const auditTopic = 'demo.masker.audit';
  const quarantineTopic = 'demo.masker.quarantine';

  const say = (line: string): void => void options.out.write(`${line}\n`);
  say(`masker demo — brokers ${brokers.join(',')}, registry ${registryUrl}, key id ${keys.active.id}`);
  await recreateTopics(kafka, [...routes.flatMap((r) => [r.source.topic, r.target.topic]), auditTopic, quarantineTopic]);

  const shop = generateShop({ customers: options.customers, ordersPerCustomer: 2 });
  const produced = await produceStream(kafka, registry, customersRoute, 'customers', shop.customers)
    + await produceStream(kafka, registry, ordersRoute, 'orders', shop.orders);
  say(`produced ${shop.customers.length} customer and ${shop.orders.length} order change events (creates, updates, a delete and its tombstone)`);

  const worker = await startWorker({
    kafka, routes, keys, logger,
    lookup: new CachedSchemaLookup(registry),
    policies: new FilePolicyStore(`${DEMO_DIR}policies`),
    groupId: `masker-demo-${randomUUID().slice(0, 8)}`,
    auditTopic,
    quarantineTopic,
    maxRecordBytes: env.MASKER_MAX_RECORD_BYTES,
    auditMode: env.MASKER_AUDIT,
  });
  say('masking worker started; waiting for the audit trail to cover every record…');
  try {
    const auditEvents = await readAuditTrail(kafka, auditTopic, produced);
    const decoder = readableDecoder(registry);
    const decodeAll = async (topic: string): Promise<{ key: unknown; value: unknown }[]> => {
      const messages = await readTopic(kafka, topic, { idleMs: 2_000 });
      return Promise.all(messages.map(async ({ message }) => ({
        key: await decoder(message.key ?? null),
        value: await decoder(message.value ?? null),
      })));
    };
    const result: DemoResult = {
      sourceCustomers: await decodeAll(customersRoute.source.topic),
      maskedCustomers: await decodeAll(customersRoute.target.topic),
      sourceOrders: await decodeAll(ordersRoute.source.topic),
      maskedOrders: await decodeAll(ordersRoute.target.topic),
      audit: auditedRecords(auditEvents, indexOf(auditEvents)),
      auditEvents,
      auditTopic,
      produced,
    };
    options.out.write(renderDemo(result));
    return result;
  } finally {
    await worker.stop();
  }
}

/**
 * The audit events, read until they account for every record produced: a chunk event (audit v2, the
 * default) accounts for its `records`, a record event (MASKER_AUDIT=record) for one.
 */
async function readAuditTrail(kafka: Kafka, auditTopic: string, produced: number): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let accounted = 0;
  await readTopic(kafka, auditTopic, {
    idleMs: 20_000,
    timeoutMs: 90_000,
    until: ({ message }) => {
      const parsed = parseAuditEvent(message.value);
      if ('problem' in parsed) return false;
      events.push(parsed.event);
      accounted += recordsAccountedFor(parsed.event);
      return accounted >= produced;
    },
  });
  return events;
}

function indexOf(events: readonly AuditEvent[]): AuditIndex {
  const index = new AuditIndex();
  for (const e of events) index.add(e);
  return index;
}

function byName(routes: readonly Route[], name: string): Route {
  const route = routes.find((r) => r.name === name);
  if (route === undefined) throw new Error(`examples/demo/topics: route ${name} missing`);
  return route;
}

async function recreateTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) {
      await admin.deleteTopics({ topics: present, timeout: 30_000 });
      // Deletion is asynchronous in Kafka: wait until the names are free before creating them again.
      for (let i = 0; i < 100 && (await admin.listTopics()).some((t) => present.includes(t)); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: -1 })) });
  } finally {
    await admin.disconnect();
  }
}

async function produceStream<Row>(kafka: Kafka, registry: RegistryClient, route: Route, table: string, events: readonly CdcEvent<Row>[]): Promise<number> {
  const schema = async (part: 'key' | 'value'): Promise<ResolvedSchema> => {
    const text = readFileSync(`${DEMO_DIR}schemas/${table}-${part}.avsc`, 'utf8');
    const id = await registry.register(`${route.source.topic}-${part}`, JSON.stringify(JSON.parse(text)));
    return parseSchema(id, JSON.stringify(JSON.parse(text)));
  };
  const [keySchema, valueSchema] = [await schema('key'), await schema('value')];
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({
      topic: route.source.topic,
      messages: events.map((e) => ({
        key: writeFrame(keySchema.id, keySchema.type.toBuffer(e.key)),
        value: e.value === null ? null : writeFrame(valueSchema.id, valueSchema.type.toBuffer(e.value)),
      })),
    });
  } finally {
    await producer.disconnect();
  }
  return events.length;
}

/** Decodes the demo's Avro records for people: dates and timestamps as ISO text, longs as numbers. */
function readableDecoder(registry: RegistryClient): (bytes: Buffer | null) => Promise<unknown> {
  const types = new Map<number, Promise<ReturnType<typeof readableType>>>();
  return async (bytes) => {
    if (bytes === null) return null;
    const frame = readFrame(bytes, 'demo');
    let type = types.get(frame.schemaId);
    if (type === undefined) {
      type = registry.schemaById(frame.schemaId).then(({ schema }) => readableType(JSON.parse(schema)));
      types.set(frame.schemaId, type);
    }
    return toReadable((await type).fromBuffer(frame.body));
  };
}
