import type { Command } from 'commander';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { loadEnv, required } from '../config/env.js';
import { MaskerError } from '../errors.js';
import { parseBound } from '../kafka/offset-range.js';
import { createKafka } from '../kafka/client.js';
import { readTopicWindow, type PartitionWindow } from '../kafka/topic-window.js';
import { createLogger } from '../observability/logger.js';
import { RegistryClient } from '../registry/registry-client.js';
import type { CliIo } from './mask-command.js';
import { processIo } from './mask-command.js';
import { RecordDecoder } from './tail/record-decoder.js';
import { formatRecord, type ShownRecord } from './tail/tail-format.js';

export interface TailOptions {
  /** `-n`: how many records (default 10): the newest, or the first from `--from-beginning` / `--from`. */
  readonly lines: string;
  readonly fromBeginning?: boolean;
  /** `--from <ISO time>`: the first records at or after this time. */
  readonly from?: string;
  /** After the records up to the end offsets, print every new record until Ctrl-C. */
  readonly follow?: boolean;
  /** One JSON object per record. */
  readonly json?: boolean;
}

export interface TailRuntime {
  readonly io: CliIo;
  /** Resolves when the command should stop (tests). Default: the first SIGINT or SIGTERM. */
  readonly untilStopped?: Promise<void>;
  /** How long to wait for a batch before giving up on the end offsets. Default 10 s. */
  readonly idleMs?: number;
}

/** Most records `-n` may ask for: they are held in memory to be merged by time. */
export const MAX_TAIL_RECORDS = 100_000;
/** Newest mode: read rounds, each over an earlier stretch of offsets, before giving up on finding N records. */
const MAX_ROUNDS = 6;

interface PartitionState {
  readonly partition: number;
  readonly low: bigint;
  readonly high: bigint;
  /** First offset read so far (newest mode reads backwards in rounds). */
  start: bigint;
  /** Offsets the next round reads before `start`. */
  span: bigint;
  records: KafkaMessage[];
}

/**
 * `masker tail TOPIC`: the records of a topic, decoded — Avro in the Confluent wire format via the registry
 * (logical types readable: decimals, dates, timestamps), JSON (the audit topic) as it is, other bytes as
 * text or hex. By default the newest N records (per partition from the high watermark back, merged by
 * timestamp, oldest first); `--from-beginning` / `--from TIME`: the first N from there. End offsets are
 * read first and the command stops there (it never waits for records that are not coming: an open
 * transaction is given up on after 10 s); `--follow` then goes on printing new records until Ctrl-C.
 * Exit codes: 0 done (Ctrl-C ends --follow with 0), 2 bad usage or unknown topic, 130 interrupted otherwise.
 *
 * This is the one command that prints record values: it shows what is on a topic the user can already
 * read with their own Kafka credentials, for looking at masked output and audit events.
 */
export async function tailCommand(topic: string, options: TailOptions, runtime: TailRuntime): Promise<number> {
  const { io } = runtime;
  const limit = parseLimit(options.lines);
  if (options.fromBeginning === true && options.from !== undefined) {
    throw new MaskerError('MASKER_INPUT', 'give either --from-beginning or --from TIME, not both');
  }
  let fromMs: number | undefined;
  if (options.from !== undefined) {
    const bound = (() => {
      try {
        return parseBound(options.from, '--from');
      } catch {
        return undefined;
      }
    })();
    if (bound?.kind !== 'time') {
      throw new MaskerError('MASKER_INPUT', `--from: expected an ISO 8601 time with a zone (e.g. 2026-11-28T09:00:00Z), got "${options.from.slice(0, 60)}"`);
    }
    fromMs = bound.ms;
  }
  const env = loadEnv(io.env);
  const logger = createLogger(env.LOG_LEVEL === 'info' ? 'error' : env.LOG_LEVEL);
  const brokers = required(env, 'KAFKA_BROKERS');
  const kafka = createKafka({ brokers, clientId: 'masker-tail', logger });
  const decoder = new RecordDecoder(env.SCHEMA_REGISTRY_URL === undefined ? undefined : new RegistryClient({ url: env.SCHEMA_REGISTRY_URL }));
  if (env.SCHEMA_REGISTRY_URL === undefined) io.stderr.write('tail: SCHEMA_REGISTRY_URL is not set: Avro records are shown as hex\n');

  const stop = stopSignal(runtime.untilStopped);
  let stopped = false;
  void stop.promise.then(() => { stopped = true; });
  let pipeClosed = false;
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') {
      pipeClosed = true; // `masker tail … | head`: the reader went away; stop quietly
      stop.trigger();
    }
  };
  io.stdout.on('error', onStdoutError);
  try {
    const partitions = await endOffsets(kafka, topic, brokers, fromMs ?? (options.fromBeginning === true ? 'beginning' : 'end'));
    const mode = fromMs !== undefined ? `from ${options.from ?? ''}` : options.fromBeginning === true ? 'from the beginning' : 'newest';
    const print = async (messages: readonly { partition: number; message: KafkaMessage }[]): Promise<void> => {
      for (const { partition, message } of messages) {
        if (pipeClosed) return;
        io.stdout.write(formatRecord(await show(decoder, topic, partition, message), options.json === true));
      }
    };

    let window: { partition: number; message: KafkaMessage }[];
    let idle: boolean;
    let more: boolean;
    if (mode === 'newest') {
      ({ window, idle, more } = await newestRecords(kafka, topic, partitions, limit, stop.promise, runtime.idleMs));
    } else {
      ({ window, idle, more } = await firstRecords(kafka, topic, partitions, limit, stop.promise, runtime.idleMs));
    }
    if (stopped && options.follow !== true) {
      return pipeClosed ? 0 : 130;
    }
    await print(window);
    if (options.json !== true || idle || more) {
      const notes = [
        `${window.length} record(s) of ${topic} (${mode}, -n ${limit}; end offsets read at the start${options.follow === true ? '; following: Ctrl-C stops' : ''})`,
        ...(more ? [`more records ${mode === 'newest' ? 'before these' : 'after these, up to the end offsets'}: raise -n to see them`] : []),
        ...(idle ? ['stopped waiting for the end offsets: no record came for a while (an open transaction holds the rest back)'] : []),
      ];
      for (const note of notes) io.stderr.write(`tail: ${note}\n`);
    }
    if (options.follow !== true || stopped) return 0;

    // Follow: every record after the end offsets read at the start, in arrival order, until Ctrl-C.
    await readTopicWindow({
      kafka, topic, follow: true, stop: stop.promise,
      windows: partitions.map((p) => ({ partition: p.partition, start: p.high, end: p.high })),
      onMessage: async (partition, message) => {
        await print([{ partition, message }]);
      },
      ...(runtime.idleMs === undefined ? {} : { idleMs: runtime.idleMs }),
    });
    return 0;
  } finally {
    io.stdout.off?.('error', onStdoutError);
    stop.dispose();
  }
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!/^\d{1,6}$/.test(text) || n < 1 || n > MAX_TAIL_RECORDS) {
    throw new MaskerError('MASKER_INPUT', `-n: expected a number of records from 1 to ${MAX_TAIL_RECORDS}, got "${text.slice(0, 20)}"`);
  }
  return n;
}

/**
 * Low and high watermarks per partition (read once, before any record), and where reading starts: the
 * low watermark, the high one (newest mode reads back from there), or the first offset at or after a time.
 */
async function endOffsets(kafka: Kafka, topic: string, brokers: readonly string[], from: number | 'beginning' | 'end'): Promise<PartitionState[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new MaskerError('MASKER_INPUT', `topic ${topic} does not exist (KAFKA_BROKERS=${brokers.join(',')})`);
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    const atTime = typeof from === 'number' ? new Map((await admin.fetchTopicOffsetsByTimestamp(topic, from)).map((o) => [o.partition, BigInt(o.offset)])) : undefined;
    return offsets.map((o) => {
      const low = BigInt(o.low);
      const high = BigInt(o.high);
      const at = atTime?.get(o.partition);
      const start = from === 'beginning' ? low : at === undefined || at < 0n ? high : at < low ? low : at;
      return { partition: o.partition, low, high, start, span: 0n, records: [] };
    }).sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

interface Window {
  readonly window: { partition: number; message: KafkaMessage }[];
  readonly idle: boolean;
  /** Records exist beyond what is shown (within the end offsets). */
  readonly more: boolean;
}

/**
 * The newest `limit` records: each partition read back from its high watermark until it gave `limit`
 * records or reached its low watermark — offsets are not records (transaction markers, aborted and
 * compacted records take offsets), so a first round reads 2×limit offsets and later rounds 4× more before.
 */
async function newestRecords(kafka: Kafka, topic: string, partitions: PartitionState[], limit: number, stop: Promise<void>, idleMs: number | undefined): Promise<Window> {
  let idle = false;
  for (const p of partitions) {
    p.start = p.high;
    p.span = BigInt(2 * limit);
  }
  const needsMore = (p: PartitionState): boolean => p.records.length < limit && p.start > p.low;
  for (let round = 0; round < MAX_ROUNDS && partitions.some(needsMore); round++) {
    const windows: PartitionWindow[] = [];
    const found = new Map<number, KafkaMessage[]>();
    for (const p of partitions.filter(needsMore)) {
      const start = p.start - p.span > p.low ? p.start - p.span : p.low;
      windows.push({ partition: p.partition, start, end: p.start });
      found.set(p.partition, []);
    }
    let stopped = false;
    void stop.then(() => { stopped = true; });
    const result = await readTopicWindow({
      kafka, topic, windows, stop,
      onMessage: (partition, message) => void found.get(partition)?.push(message),
      ...(idleMs === undefined ? {} : { idleMs }),
    });
    idle ||= result.idle;
    for (const w of windows) {
      const p = partitions.find((q) => q.partition === w.partition);
      if (p === undefined) continue;
      p.records = [...(found.get(w.partition) ?? []), ...p.records];
      p.start = w.start;
      p.span *= 4n;
    }
    if (stopped || result.idle) break;
  }
  const all = partitions.flatMap((p) => p.records.slice(-limit).map((message) => ({ partition: p.partition, message })));
  all.sort(byTime);
  const more = all.length > limit || partitions.some((p) => p.records.length > limit || (p.records.length >= limit && p.start > p.low));
  return { window: all.slice(-limit), idle, more };
}

/** The first `limit` records from each partition's start (`--from-beginning`, `--from TIME`), merged by time. */
async function firstRecords(kafka: Kafka, topic: string, partitions: PartitionState[], limit: number, stop: Promise<void>, idleMs: number | undefined): Promise<Window> {
  const found = new Map<number, KafkaMessage[]>(partitions.map((p) => [p.partition, []]));
  const windows = partitions.map((p) => ({ partition: p.partition, start: p.start, end: p.high }));
  let cut = false;
  const result = await readTopicWindow({
    kafka, topic, windows, stop,
    onMessage: (partition, message) => {
      const list = found.get(partition);
      if (list === undefined) return true;
      if (list.length >= limit) {
        cut = true;
        return true;
      }
      list.push(message);
      if (list.length < limit) return false;
      // The limit is reached; there are more records in this partition if its end is further on.
      if (BigInt(message.offset) + 1n < (partitions.find((p) => p.partition === partition)?.high ?? 0n)) cut = true;
      return true;
    },
    ...(idleMs === undefined ? {} : { idleMs }),
  });
  const all = [...found].flatMap(([partition, messages]) => messages.map((message) => ({ partition, message })));
  all.sort(byTime);
  return { window: all.slice(0, limit), idle: result.idle, more: cut || all.length > limit };
}

function byTime(a: { partition: number; message: KafkaMessage }, b: { partition: number; message: KafkaMessage }): number {
  const ta = Number(a.message.timestamp);
  const tb = Number(b.message.timestamp);
  if (ta !== tb) return ta - tb;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const oa = BigInt(a.message.offset);
  const ob = BigInt(b.message.offset);
  return oa === ob ? 0 : oa < ob ? -1 : 1;
}

async function show(decoder: RecordDecoder, topic: string, partition: number, message: KafkaMessage): Promise<ShownRecord> {
  const headers = Object.entries(message.headers ?? {}).flatMap(([name, value]) => {
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => [name, v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v))] as const);
  });
  return {
    topic, partition, offset: message.offset, timestamp: message.timestamp,
    key: await decoder.decode(message.key ?? null),
    value: await decoder.decode(message.value),
    headers,
  };
}

/** The stop signal: the caller's promise, or the first SIGINT/SIGTERM (handlers removed by dispose). */
function stopSignal(untilStopped: Promise<void> | undefined): { promise: Promise<void>; trigger(): void; dispose(): void } {
  let trigger: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => { trigger = resolve; });
  const onSignal = (): void => trigger();
  if (untilStopped === undefined) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  } else {
    void untilStopped.then(onSignal);
  }
  return {
    promise,
    trigger: () => trigger(),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function registerTailCommand(program: Command, io: CliIo = processIo()): void {
  program
    .command('tail')
    .description('print a topic\'s records decoded (Avro via SCHEMA_REGISTRY_URL, audit JSON as is): the newest N by default, then exit')
    .argument('<topic>', 'topic to read (KAFKA_BROKERS)')
    .option('-n, --lines <n>', 'how many records: the newest, or the first from --from-beginning / --from', '10')
    .option('--from-beginning', 'the first records of each partition instead of the newest')
    .option('--from <time>', 'the first records at or after this ISO 8601 time (e.g. 2026-11-28T09:00:00Z)')
    .option('-f, --follow', 'then keep printing new records until Ctrl-C')
    .option('--json', 'one JSON object per record: topic, partition, offset, timestamp, key, value, formats, schema ids, headers')
    .action(async (topic: string, opts: TailOptions) => {
      process.exitCode = await tailCommand(topic, opts, { io });
    });
}
