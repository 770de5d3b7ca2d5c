import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** Where to start and stop reading one partition: `start` inclusive, `end` exclusive (end offsets read first). */
export interface PartitionWindow {
  readonly partition: number;
  readonly start: bigint;
  readonly end: bigint;
}

export interface TopicWindowOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly windows: readonly PartitionWindow[];
  /**
   * Each message, in offset order per partition. Return true when this partition has given enough (the
   * reader then counts it as done). Messages at or past `end` come only with `follow`.
   */
  readonly onMessage: (partition: number, message: KafkaMessage) => boolean | void | Promise<boolean | void>;
  /**
   * Called once when every partition is done: reached its end offset (control records and aborted
   * transactions count: the batch's last offset says so), had nothing to read, or was declared done by
   * onMessage — or when `idleMs` passed without a batch before that (`idle: true`: an open transaction
   * holds the rest back).
   */
  readonly onCaughtUp?: (idle: boolean) => void | Promise<void>;
  /** Keep reading past the end offsets until `stop` resolves. Default false: return once caught up. */
  readonly follow?: boolean;
  /** Resolves when the caller wants to stop (Ctrl-C): the reader returns cleanly. */
  readonly stop?: Promise<void>;
  /** How long to wait for a batch before giving up on the end offsets. Default 10 s. */
  readonly idleMs?: number;
}

export interface TopicWindowResult {
  /** Stopped waiting for the end offsets after `idleMs` without a batch. */
  readonly idle: boolean;
}

/**
 * Reads a window of each partition with a throwaway consumer group (read committed, nothing committed,
 * the group deleted afterwards), seeking each partition to its start. Returns when every partition is done
 * (unless `follow`), when `stop` resolves, or after `idleMs` without a batch before being caught up (not
 * with `follow`: then it only calls onCaughtUp and goes on). Never waits forever for records that are not
 * coming: the ends are the offsets read before the first fetch.
 */
export async function readTopicWindow(options: TopicWindowOptions): Promise<TopicWindowResult> {
  const { kafka, topic, windows } = options;
  const follow = options.follow ?? false;
  const idleMs = options.idleMs ?? 10_000;
  const ends = new Map(windows.map((w) => [w.partition, w.end]));
  const done = new Set(windows.filter((w) => w.start >= w.end).map((w) => w.partition));
  if (!follow && done.size >= ends.size) {
    await options.onCaughtUp?.(false); // nothing to read: no group to join
    return { idle: false };
  }
  const groupId = `masker-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 250 });

  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  let stopped = false;
  let failure: unknown;
  let caughtUp = false;
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  let work: Promise<void> = Promise.resolve();

  const stop = (): void => {
    stopped = true;
    finish();
  };
  const reachCaughtUp = (wasIdle: boolean): void => {
    if (caughtUp) return;
    caughtUp = true;
    idle = wasIdle;
    if (timer !== undefined) clearTimeout(timer);
    work = work.then(() => options.onCaughtUp?.(wasIdle)).then(() => {
      if (!follow) stop();
    }, (err: unknown) => {
      failure = err;
      stop();
    });
  };
  const check = (): void => {
    if (!caughtUp && done.size >= ends.size) reachCaughtUp(false);
  };
  const armIdle = (): void => {
    if (caughtUp) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => reachCaughtUp(true), idleMs);
  };
  void options.stop?.then(stop);

  await consumer.connect();
  try {
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      armIdle();
      const end = ends.get(e.payload.partition);
      if (end !== undefined && BigInt(e.payload.lastOffset) + 1n >= end) done.add(e.payload.partition);
      check();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      failure = e.payload.error;
      stop();
    });
    // No committed offsets and fromBeginning false: a fetch before the seeks apply reads at the end (nothing).
    await consumer.subscribe({ topic, fromBeginning: false });
    armIdle();
    check();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isRunning, isStale }) => {
        const end = ends.get(batch.partition) ?? 0n;
        for (const message of batch.messages) {
          if (stopped || !isRunning() || isStale()) return;
          const past = BigInt(message.offset) >= end;
          if (past && !follow) break;
          if (!past && done.has(batch.partition)) continue; // declared done by onMessage: skip the rest of the window
          try {
            if ((await options.onMessage(batch.partition, message)) === true && !past) {
              done.add(batch.partition);
              check();
            }
          } catch (err) {
            failure = err;
            stop();
            return;
          }
        }
      },
    });
    // Seeks made before the group is joined wait for the partition's assignment; each applies before its first fetch.
    for (const w of windows) consumer.seek({ topic, partition: w.partition, offset: String(w.start) });
    await finished;
    await work;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  if (failure !== undefined) throw failure;
  return { idle };
}
