import type { Kafka, KafkaMessage } from 'kafkajs';
import { readTopicWindow } from '../kafka/topic-window.js';

/** Which offsets `masker scan` samples, and reading them. */

/** The offsets to read in one partition: `start` inclusive, `end` exclusive (the end offset read first). */
export interface SampleRange {
  readonly partition: number;
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * Where to read: by default the newest records, `samples` spread over the partitions (a partition with
 * fewer gives its share to the others); with --from, from there to the end offsets (the first `samples`
 * that arrive). Offsets outside the log are clamped to it.
 */
export function sampleRanges(
  watermarks: readonly { readonly partition: number; readonly low: bigint; readonly high: bigint }[],
  samples: number,
  starts?: ReadonlyMap<number, bigint>,
): SampleRange[] {
  if (starts !== undefined) {
    return watermarks.map((w) => {
      const at = starts.get(w.partition) ?? w.high;
      return { partition: w.partition, start: at < w.low ? w.low : at > w.high ? w.high : at, end: w.high };
    });
  }
  const byAvailable = [...watermarks].sort((a, b) => Number(a.high - a.low - (b.high - b.low)));
  let remaining = BigInt(samples);
  const out: SampleRange[] = [];
  byAvailable.forEach((w, i) => {
    const left = BigInt(byAvailable.length - i);
    const share = (remaining + left - 1n) / left;
    const take = w.high - w.low < share ? w.high - w.low : share;
    remaining -= take;
    out.push({ partition: w.partition, start: w.high - take, end: w.high });
  });
  return out.sort((a, b) => a.partition - b.partition);
}

/**
 * Reads the ranges (the shared window reader: throwaway group, read committed, end offsets read first)
 * until `limit` messages or every partition at its end, or `idleMs` without a batch.
 */
export async function readRanges(
  kafka: Kafka, topic: string, ranges: readonly SampleRange[], limit: number, idleMs: number,
  onMessage: (partition: number, message: KafkaMessage) => Promise<void>,
): Promise<{ idle: boolean }> {
  let count = 0;
  let enough: () => void = () => undefined;
  const limitReached = new Promise<void>((resolve) => { enough = resolve; });
  const { idle } = await readTopicWindow({
    kafka, topic, windows: ranges, idleMs, stop: limitReached,
    onMessage: async (partition, message) => {
      await onMessage(partition, message);
      if (++count >= limit) enough();
    },
  });
  return { idle: idle && count < limit };
}

