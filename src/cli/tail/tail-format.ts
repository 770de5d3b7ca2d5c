import type { DecodedBytes } from './record-decoder.js';
import { bytesText } from './readable-avro.js';

/** One record as `masker tail` shows it. */
export interface ShownRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Kafka timestamp, ms since the epoch as text (kafkajs). */
  readonly timestamp: string;
  readonly key: DecodedBytes;
  readonly value: DecodedBytes;
  readonly headers: readonly (readonly [string, Buffer | null])[];
}

/**
 * The record as text: `--json` gives one JSON object per line (topic, partition, offset, timestamp, key,
 * value, keyFormat, valueFormat, key/value schema ids, headers, notes); otherwise a header line
 * (`2026-11-28T09:00:00.123Z  topic/partition@offset  key …  headers …`) and the value as compact JSON on
 * the next line, indented. Strings are JSON-escaped, and so are the C1 controls and the bidirectional and
 * line-separator characters JSON leaves alone: a record cannot move the terminal's cursor or reorder text.
 */
export function formatRecord(record: ShownRecord, json: boolean): string {
  const time = timestampText(record.timestamp);
  const headers = Object.fromEntries(record.headers.map(([name, value]) => [name, value === null ? null : bytesText(value)]));
  const notes = [record.key, record.value].flatMap((d, i) => ('note' in d && d.note !== undefined ? [`${i === 0 ? 'key' : 'value'}: ${d.note}`] : []));
  if (json) {
    return `${safeJson({
      topic: record.topic, partition: record.partition, offset: record.offset, timestamp: time,
      key: record.key.value, keyFormat: record.key.format, ...(record.key.format === 'avro' ? { keySchemaId: record.key.schemaId } : {}),
      value: record.value.value, valueFormat: record.value.format, ...(record.value.format === 'avro' ? { valueSchemaId: record.value.schemaId } : {}),
      ...(record.headers.length === 0 ? {} : { headers }),
      ...(notes.length === 0 ? {} : { notes }),
    })}\n`;
  }
  const head = [
    time,
    `${record.topic}/${record.partition}@${record.offset}`,
    ...(record.key.format === 'null' ? [] : [`key ${safeJson(record.key.value)}`]),
    ...(record.headers.length === 0 ? [] : [`headers ${safeJson(headers)}`]),
    ...(record.value.format === 'avro' ? [`schema ${record.value.schemaId}`] : []),
  ].join('  ');
  const body = record.value.format === 'null' ? '(tombstone: no value)' : safeJson(record.value.value);
  return `${head}\n  ${body}\n${notes.map((n) => `  (${n})\n`).join('')}`;
}

function timestampText(ms: string): string {
  const n = Number(ms);
  if (!Number.isFinite(n) || n < 0 || n > 8.64e15) return ms;
  return new Date(n).toISOString();
}

/** JSON.stringify, with the characters it leaves raw that a terminal acts on escaped too. */
export function safeJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
