import {
  AUDIT_SCHEMA_VERSION,
  AUDIT_V2_SCHEMA_VERSION,
  type AuditEvent,
  type ChunkAuditEvent,
  type DetectionAudit,
  type FieldAudit,
  type PlanAuditEvent,
  type RecordAuditEvent,
  type RecordOutcome,
} from './audit-event.js';

/** One source record as the audit tells it, whichever audit version wrote it. Never a value. */
export interface AuditedRecord {
  readonly route: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly outcome: RecordOutcome;
  /** The plan hash (v2) of a record something was masked in; absent for v1 and records nothing masked. */
  readonly planHash?: string;
  /** The policy that masked it: from the plan event (v2; absent when that event was not read) or the record event (v1). */
  readonly policy?: PlanAuditEvent['policy'];
  readonly schemaId?: PlanAuditEvent['schemaId'];
  /** v1: the decisions applied to this record; v2: every decision of its plan. */
  readonly fields?: readonly FieldAudit[];
  readonly error?: { readonly code: string; readonly message: string };
  readonly newSchema?: boolean;
  readonly detections?: readonly DetectionAudit[];
  readonly replayed?: boolean;
  /** The event it was read from: `chunk` (v2) or `record` (v1), by id. */
  readonly from: { readonly type: 'chunk' | 'record'; readonly id: string; readonly time: string };
}

/** What the audit says about an offset range of one partition. */
export interface RangeSummary {
  /** Records the chunk and record events overlapping the range count (chunks may reach beyond it). */
  readonly events: number;
  readonly outcomes: Record<RecordOutcome, number>;
  /** Records of the range that did not reach the target as masked data (quarantined), by offset. */
  readonly quarantined: readonly AuditedRecord[];
  /** Plan hashes used in the range, with their plan events where read. */
  readonly plans: ReadonlyMap<string, PlanAuditEvent | undefined>;
}

/**
 * The audit topic's events, indexed to answer "what happened to source offset X" (which policy version,
 * which plan, quarantined or not) and "was anything quarantined in this range", for v1 record events and v2
 * chunk + plan events alike. Pure: the caller reads the topic and hands every event to `add`.
 */
export class AuditIndex {
  private readonly plans = new Map<string, PlanAuditEvent>();
  private readonly chunks = new Map<string, ChunkAuditEvent[]>();
  private readonly records = new Map<string, RecordAuditEvent>();
  private sorted = true;

  add(event: AuditEvent): void {
    switch (event.type) {
      case 'plan':
        this.plans.set(event.plan, event);
        return;
      case 'chunk': {
        const key = partitionKey(event.source.topic, event.source.partition);
        const list = this.chunks.get(key) ?? [];
        list.push(event);
        this.chunks.set(key, list);
        this.sorted = false;
        return;
      }
      case 'record':
        this.records.set(`${partitionKey(event.source.topic, event.source.partition)}:${event.source.offset}`, event);
        return;
      default:
        return;
    }
  }

  plan(hash: string): PlanAuditEvent | undefined {
    return this.plans.get(hash);
  }

  /** The record at `offset` of `topic`/`partition`; undefined when no event covers it. */
  find(topic: string, partition: number, offset: bigint): AuditedRecord | undefined {
    const v1 = this.records.get(`${partitionKey(topic, partition)}:${offset}`);
    if (v1 !== undefined) return fromRecordEvent(v1);
    const chunk = this.chunksOf(topic, partition).find((c) => BigInt(c.source.firstOffset) <= offset && offset <= BigInt(c.source.lastOffset));
    return chunk === undefined ? undefined : this.fromChunk(chunk, offset);
  }

  /** The chunk events of a partition, by first offset. */
  chunksOf(topic: string, partition: number): readonly ChunkAuditEvent[] {
    if (!this.sorted) {
      for (const list of this.chunks.values()) list.sort((a, b) => compareOffsets(a.source.firstOffset, b.source.firstOffset));
      this.sorted = true;
    }
    return this.chunks.get(partitionKey(topic, partition)) ?? [];
  }

  /** Partitions of `topic` the index holds events of. */
  partitions(topic: string): number[] {
    const found = new Set<number>();
    for (const list of this.chunks.values()) for (const c of list) if (c.source.topic === topic) found.add(c.source.partition);
    for (const r of this.records.values()) if (r.source.topic === topic) found.add(r.source.partition);
    return [...found].sort((a, b) => a - b);
  }

  /** Offsets `from`..`to` (inclusive) of one partition: outcomes, quarantined records, plans used. */
  summarize(topic: string, partition: number, from: bigint, to: bigint): RangeSummary {
    const outcomes: Record<RecordOutcome, number> = { masked: 0, quarantined: 0, tombstone: 0 };
    const quarantined: AuditedRecord[] = [];
    const plans = new Map<string, PlanAuditEvent | undefined>();
    let events = 0;
    for (const chunk of this.chunksOf(topic, partition)) {
      if (BigInt(chunk.source.lastOffset) < from || BigInt(chunk.source.firstOffset) > to) continue;
      events += 1;
      for (const outcome of ['masked', 'quarantined', 'tombstone'] as const) outcomes[outcome] += chunk.outcomes[outcome];
      for (const run of chunk.plans) {
        if (BigInt(run.lastOffset) >= from && BigInt(run.firstOffset) <= to) plans.set(run.plan, this.plans.get(run.plan));
      }
      for (const entry of chunk.entries) {
        const at = BigInt(entry.offset);
        if (entry.outcome === 'quarantined' && at >= from && at <= to) quarantined.push(this.fromChunk(chunk, at));
      }
    }
    for (const record of this.records.values()) {
      const at = BigInt(record.source.offset);
      if (record.source.topic !== topic || record.source.partition !== partition || at < from || at > to) continue;
      events += 1;
      outcomes[record.outcome] += 1;
      if (record.outcome === 'quarantined') quarantined.push(fromRecordEvent(record));
    }
    quarantined.sort((a, b) => compareOffsets(a.offset, b.offset));
    return { events, outcomes, quarantined, plans };
  }

  private fromChunk(chunk: ChunkAuditEvent, offset: bigint): AuditedRecord {
    const text = offset.toString();
    const entry = chunk.entries.find((e) => e.offset === text);
    const outcome = entry?.outcome ?? 'masked';
    const run = outcome === 'quarantined'
      ? undefined
      : chunk.plans.find((r) => BigInt(r.firstOffset) <= offset && offset <= BigInt(r.lastOffset));
    const plan = run === undefined ? undefined : this.plans.get(run.plan);
    return {
      route: chunk.route,
      topic: chunk.source.topic,
      partition: chunk.source.partition,
      offset: text,
      outcome,
      ...(run === undefined ? {} : { planHash: run.plan }),
      ...(plan === undefined ? {} : { policy: plan.policy, schemaId: plan.schemaId, fields: plan.fields }),
      ...(entry?.error === undefined ? {} : { error: entry.error }),
      ...(entry?.newSchema === true ? { newSchema: true } : {}),
      ...(entry?.detections === undefined ? {} : { detections: entry.detections }),
      ...(chunk.replayed === true ? { replayed: true } : {}),
      from: { type: 'chunk', id: chunk.id, time: chunk.time },
    };
  }
}

/**
 * One audit message's value as an event, or why it is not one (invalid JSON, another `schema`, an unknown
 * `type`, a missing field the index needs). Only the shape the index reads is checked.
 */
export function parseAuditEvent(value: Buffer | null): { event: AuditEvent } | { problem: string } {
  if (value === null) return { problem: 'empty message' };
  let data: unknown;
  try {
    data = JSON.parse(value.toString('utf8'));
  } catch {
    return { problem: 'not JSON' };
  }
  if (typeof data !== 'object' || data === null) return { problem: 'not a JSON object' };
  const { schema, type } = data as { schema?: unknown; type?: unknown };
  if (schema !== AUDIT_SCHEMA_VERSION && schema !== AUDIT_V2_SCHEMA_VERSION) return { problem: `unknown schema ${JSON.stringify(schema)}` };
  const missing = REQUIRED[String(type)];
  if (missing === undefined) return { problem: `unknown type ${JSON.stringify(type)}` };
  const absent = missing.find((path) => valueAt(data, path) === undefined);
  if (absent !== undefined) return { problem: `${String(type)} event without ${absent}` };
  return { event: data as AuditEvent };
}

/** Fields the index reads, per event type (other types are kept but not indexed). */
const REQUIRED: Record<string, readonly string[]> = {
  record: ['source.topic', 'source.partition', 'source.offset', 'outcome'],
  chunk: ['source.topic', 'source.partition', 'source.firstOffset', 'source.lastOffset', 'outcomes', 'plans', 'entries'],
  plan: ['plan', 'policy'],
  'policy-applied': [],
  'policy-rejected': [],
  'schema-held': [],
  'schema-approved': [],
};

function valueAt(data: unknown, path: string): unknown {
  let at: unknown = data;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function fromRecordEvent(event: RecordAuditEvent): AuditedRecord {
  return {
    route: event.route,
    topic: event.source.topic,
    partition: event.source.partition,
    offset: event.source.offset,
    outcome: event.outcome,
    ...(event.policy === null ? {} : { policy: event.policy }),
    schemaId: event.schemaId,
    fields: event.fields,
    ...(event.error === undefined ? {} : { error: event.error }),
    ...(event.newSchema === true ? { newSchema: true } : {}),
    ...(event.detections === undefined ? {} : { detections: event.detections }),
    ...(event.replayed === true ? { replayed: true } : {}),
    from: { type: 'record', id: event.id, time: event.time },
  };
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function compareOffsets(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
