/**
 * The pipeline benchmark's baseline: a plain kafkajs copy of a topic through the same exactly-once loop
 * masker uses (one transaction per chunk, same chunk size, sendOffsets), with no decoding or masking.
 * Our physical limit on this broker. Run by pipeline-bench.ts as a separate process, like masker itself,
 * and compiled like masker (tsc → .bench-build/): under a TS loader it measured up to 40% slower.
 *
 *   node .bench-build/bench/pipeline/copy-worker.js SOURCE TARGET GROUP
 */
import { envSchema } from '../../src/config/env.js';
import { createKafka } from '../../src/kafka/client.js';
import { TransactionalLoop } from '../../src/kafka/transactional-loop.js';
import { createLogger } from '../../src/observability/logger.js';

const [source, target, groupId] = process.argv.slice(2).filter((a) => a !== '--');
if (source === undefined || target === undefined || groupId === undefined) {
  process.stderr.write('usage: copy-worker SOURCE TARGET GROUP\n');
  process.exit(2);
}
const logger = createLogger('warn');
const kafka = createKafka({ brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','), clientId: 'bench-copy', logger });
const loop = new TransactionalLoop({
  kafka,
  groupId,
  topics: [source],
  transactionalIdPrefix: `bench-copy-${groupId}`,
  logger,
  maxBatchRecords: Number(process.env['MASKER_BATCH_RECORDS'] ?? 500),
  // Same batching as masker run: its default unless the environment overrides it.
  partitionConcurrency: envSchema.shape.MASKER_PARTITION_CONCURRENCY.parse(process.env['MASKER_PARTITION_CONCURRENCY']),
  handler: async (records) => records.map((r) => ({ topic: target, partition: r.partition, key: r.key, value: r.value })),
});
await loop.start();
process.stderr.write('worker started\n');
process.once('SIGTERM', () => void loop.stop().then(() => process.exit(0)));
