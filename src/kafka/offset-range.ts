import type { Admin } from 'kafkajs';
import { MaskerError } from '../errors.js';

/** One end of a replay range: an offset (same for every partition) or a point in time. */
export type RangeBound = { readonly kind: 'offset'; readonly offset: bigint } | { readonly kind: 'time'; readonly ms: number; readonly text: string };

/** The offsets to replay in one partition: `from` inclusive, `to` exclusive. */
export interface PartitionRange {
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

export interface ResolvedRange {
  readonly topic: string;
  readonly partitions: readonly PartitionRange[];
  readonly total: bigint;
  /** Partitions whose `to` was past the end of the log and was cut to the high watermark. */
  readonly clamped: readonly number[];
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses `--from` / `--to`: a non-negative integer offset, or an ISO 8601 date-time with a zone. */
export function parseBound(text: string, flag: string): RangeBound {
  if (/^\d{1,19}$/.test(text)) return { kind: 'offset', offset: BigInt(text) };
  if (ISO_TIME.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return { kind: 'time', ms, text };
  }
  throw new MaskerError('MASKER_INPUT', `${flag}: expected an offset (e.g. 1200) or an ISO 8601 time with a zone (e.g. 2026-11-28T09:00:00Z), got "${text}"`);
}

/**
 * Resolves a range against the topic's current log: times become offsets (the first record at or after
 * the time), `to` past the end is cut to the high watermark. Refuses a reversed range, an offset below the
 * earliest retained one, a time range that lies wholly before retention, and an empty range.
 */
export async function resolveRange(admin: Admin, topic: string, from: RangeBound, to: RangeBound): Promise<ResolvedRange> {
  if (from.kind === 'offset' && to.kind === 'offset' && from.offset > to.offset) {
    throw new MaskerError('MASKER_INPUT', `--from ${from.offset} is after --to ${to.offset}: the range is reversed`);
  }
  if (from.kind === 'time' && to.kind === 'time' && from.ms > to.ms) {
    throw new MaskerError('MASKER_INPUT', `--from ${from.text} is after --to ${to.text}: the range is reversed`);
  }
  const watermarks = await admin.fetchTopicOffsets(topic);
  const byTime = async (ms: number): Promise<Map<number, bigint>> =>
    new Map((await admin.fetchTopicOffsetsByTimestamp(topic, ms)).map((e) => [e.partition, BigInt(e.offset)]));
  const fromTimes = from.kind === 'time' ? await byTime(from.ms) : undefined;
  const toTimes = to.kind === 'time' ? await byTime(to.ms) : undefined;

  const partitions: PartitionRange[] = [];
  const clamped: number[] = [];
  for (const w of [...watermarks].sort((a, b) => a.partition - b.partition)) {
    const low = BigInt(w.low);
    const high = BigInt(w.high);
    const at = (times: Map<number, bigint> | undefined): bigint => {
      const offset = times?.get(w.partition) ?? -1n;
      return offset < 0n ? high : offset; // no record at or after the time: the end of the log
    };
    const start = from.kind === 'offset' ? from.offset : at(fromTimes);
    let end = to.kind === 'offset' ? to.offset : at(toTimes);
    if (from.kind === 'offset' && start < low && start < end) {
      throw new MaskerError('MASKER_INPUT', `${topic} partition ${w.partition}: --from ${start} is outside retention (earliest retained offset is ${low})`);
    }
    if (to.kind === 'time' && low > 0n && end <= low && start <= low && from.kind === 'time') {
      throw new MaskerError('MASKER_INPUT', `${topic} partition ${w.partition}: the range ${from.text} – ${to.text} lies before retention (earliest retained offset is ${low})`);
    }
    if (end > high) {
      end = high;
      clamped.push(w.partition);
    }
    partitions.push({ partition: w.partition, from: start, to: end > start ? end : start });
  }
  const total = partitions.reduce((sum, p) => sum + (p.to - p.from), 0n);
  if (total === 0n) throw new MaskerError('MASKER_INPUT', `${topic}: the range holds no records; nothing to replay`);
  return { topic, partitions, total, clamped };
}
