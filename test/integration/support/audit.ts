import type { Kafka } from 'kafkajs';
import type { AuditEvent } from '../../../src/audit/audit-event.js';
import { AuditIndex, auditedRecords, type AuditedRecord } from '../../../src/audit/audit-index.js';
import { parseAuditEvent, recordsAccountedFor } from '../../../src/audit/audit-parse.js';
import { consumeAll, type ConsumedMessage } from './services.js';

/** An audit topic as read by a test: its events, the index over them, and one view per audited source record. */
export interface AuditRead {
  readonly messages: readonly ConsumedMessage[];
  readonly events: readonly AuditEvent[];
  readonly index: AuditIndex;
  /** Every source record the record (v1) and chunk (v2) events account for, by topic, partition and offset. */
  readonly records: readonly AuditedRecord[];
  /** All the audit text: what tests search for values that must never be there. */
  readonly text: string;
}

/** How many distinct source records (topic, partition, offset) `records` name: equal to its length when none is audited twice. */
export function distinctRecords(records: readonly AuditedRecord[]): number {
  return new Set(records.map((r) => `${r.topic}:${r.partition}:${r.offset}`)).size;
}

export function auditEvents(messages: readonly ConsumedMessage[]): AuditEvent[] {
  return messages.map((m) => {
    const parsed = parseAuditEvent(m.value);
    if ('problem' in parsed) throw new Error(`audit message at offset ${m.offset}: ${parsed.problem}`);
    return parsed.event;
  });
}

/**
 * Reads the audit topic until its events account for `records` source records (then `settleMs` more, to
 * catch duplicates), whichever audit mode wrote it. `until`: a further condition on the events read so far
 * (events written outside the workers' transactions, such as schema-guard or policy events).
 */
export async function readAudit(
  kafka: Kafka,
  topic: string,
  records: number,
  options: { timeoutMs?: number; settleMs?: number; until?: (events: readonly AuditEvent[]) => boolean } = {},
): Promise<AuditRead> {
  const { until: also, ...rest } = options;
  // Parsed as messages arrive (parsing them all again per message is quadratic: 1,200 v1 events took 25 s).
  const events: AuditEvent[] = [];
  let accounted = 0;
  const until = (m: readonly ConsumedMessage[]): boolean => {
    const fresh = auditEvents(m.slice(events.length));
    events.push(...fresh);
    for (const e of fresh) accounted += recordsAccountedFor(e);
    return accounted >= records && (also === undefined || also(events));
  };
  const messages = await consumeAll(kafka, topic, 0, { ...rest, until });
  return auditOf(messages);
}

export function auditOf(messages: readonly ConsumedMessage[]): AuditRead {
  const events = auditEvents(messages);
  const index = new AuditIndex();
  for (const e of events) index.add(e);
  // Test sources are written without transactions: every offset of a chunk's range is one of its records.
  for (const e of events) {
    if (e.type === 'chunk' && BigInt(e.source.lastOffset) - BigInt(e.source.firstOffset) + 1n !== BigInt(e.records)) {
      throw new Error(`chunk ${e.id}: ${e.records} records in its offset range (a source written with transactions?)`);
    }
  }
  const records = auditedRecords(events, index);
  return { messages, events, index, records, text: messages.map((m) => m.value?.toString('utf8') ?? '').join('\n') };
}
