import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Partitioners } from 'kafkajs';
import { loadEnv, required } from '../config/env.js';
import { MaskerError } from '../errors.js';
import { ensureTopics } from '../kafka/admin.js';
import { createKafka } from '../kafka/client.js';
import { createLogger } from '../observability/logger.js';
import { RegistryClient } from '../registry/registry-client.js';
import { writeFrame } from '../registry/wire-format.js';
import { loadSchemaFile } from './mask-command.js';

export interface ProduceOptions {
  readonly topic: string;
  readonly schema: string;
  readonly in?: string;
}

/**
 * `masker produce`: feeds test records to a topic the way a production producer would — the schema
 * registered under `<topic>-value`, each line of Avro JSON encoding (as `avro-tools tojson` prints)
 * framed in the Confluent wire format. Keys are null. For trying masker out; not part of the pipeline.
 */
export async function produceCommand(options: ProduceOptions): Promise<number> {
  const env = loadEnv();
  const schema = loadSchemaFile(options.schema);
  const logger = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  const kafka = createKafka({ brokers: required(env, 'KAFKA_BROKERS'), clientId: 'masker-produce', logger });
  const registry = new RegistryClient({ url: required(env, 'SCHEMA_REGISTRY_URL') });
  const id = await registry.register(`${options.topic}-value`, JSON.stringify(schema.json));
  const values: Buffer[] = [];
  const input = options.in === undefined ? process.stdin : createReadStream(options.in);
  let lineNo = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    try {
      values.push(writeFrame(id, schema.type.toBuffer(schema.type.fromString(line))));
    } catch {
      throw new MaskerError('MASKER_INPUT', `${options.in ?? 'stdin'} line ${lineNo}: not a record of ${options.schema} in Avro JSON encoding`);
    }
  }
  await ensureTopics(kafka, [{ topic: options.topic }]);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 500) {
      await producer.send({ topic: options.topic, acks: -1, messages: values.slice(i, i + 500).map((value) => ({ key: null, value })) });
    }
  } finally {
    await producer.disconnect();
  }
  process.stdout.write(`produced ${values.length} records to ${options.topic} (schema id ${id})\n`);
  return 0;
}

export function registerProduceCommand(program: Command): void {
  program
    .command('produce')
    .description('produce Avro JSON-encoded records (one per line) to a topic, registering the schema (for trying masker out)')
    .requiredOption('--topic <topic>', 'topic to produce to (created when missing)')
    .requiredOption('--schema <file>', 'Avro schema (.avsc), registered as <topic>-value')
    .option('--in <file>', 'input file (default: stdin)')
    .action(async (opts: { topic: string; schema: string; in?: string }) => {
      await produceCommand({ topic: opts.topic, schema: opts.schema, ...(opts.in === undefined ? {} : { in: opts.in }) });
    });
}
