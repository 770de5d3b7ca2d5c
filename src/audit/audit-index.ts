import {
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
  readonly keySchemaId?: PlanAuditEvent['keySchemaId'];
  /** The id of the key that keyed the pseudonyms (from the plan event, v2, or the record event, v1). */
  readonly keyId?: string;
  /** The target topic (absent for a v1 record that reached no target). */
  readonly target?: string;
  /** v1: the decisions applied to this record; v2: every decision of its plan. */
  readonly fields?: readonly FieldAudit[];
  readonly error?: { readonly code: string; readonly message: string };
  readonly newSchema?: boolean;
  readonly detections?: readonly DetectionAudit[];
  readonly replayed?: boolean;
  /**
   * The audit run it belongs to: a chunk's consumer group (the workers' or a replay run's); for v1 record
   * events, which name no group, `replay` for replayed ones and `` for the rest. Within one run a source
   * offset is audited at most once; a replayed offset is audited once by the workers and once per replay run.
   */
  readonly group: string;
  /** The event it was read from: `chunk` (v2) or `record` (v1), by id. */
  readonly from: { readonly type: 'chunk' | 'record'; readonly id: string; readonly time: string };
}

/** What the audit says about an offset range of one partition. */
export interface RangeSummary {
  /** Chunk and record events covering offsets of the range (chunks may reach beyond it). */
  readonly events: number;
  /**
   * Records of the range per outcome (not of the whole chunks that reach beyond it). Exact, except where a
   * chunk reaching beyond the range has offsets that are not records (a transactional source's markers)
   * inside a run of one plan that the range cuts: then `approximate` is set and `masked` is an upper bound.
   */
  readonly outcomes: Record<RecordOutcome, number>;
  readonly approximate: boolean;
  /** Every event summarized is a replay's (`masker replay`). */
  readonly replayed: boolean;
  /**
   * Stretches of the range (inclusive) no event covers: not masked yet (or not committed), past the end of
   * the source, removed from the audit topic by retention — or offsets that are not records (transaction
   * markers between two chunks).
   */
  readonly uncovered: readonly { readonly from: string; readonly to: string }[];
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
  /** v1 record events by `<partition key>:<offset>`: more than one when the offset was replayed. */
  private readonly records = new Map<string, RecordAuditEvent[]>();
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
      case 'record': {
        const key = `${partitionKey(event.source.topic, event.source.partition)}:${event.source.offset}`;
        this.records.set(key, [...(this.records.get(key) ?? []), event]);
        return;
      }
      default:
        return;
    }
  }

  plan(hash: string): PlanAuditEvent | undefined {
    return this.plans.get(hash);
  }

  /**
   * The record at `offset` of `topic`/`partition`; undefined when no event covers it, or when the chunk
   * whose range holds it says it is not one of its records (a transactional source's commit marker or an
   * aborted record takes an offset; `chunksAt` tells the two apart).
   */
  find(topic: string, partition: number, offset: bigint): AuditedRecord | undefined {
    return this.findAll(topic, partition, offset)[0];
  }

  /**
   * Every audited version of the record at `offset`: the workers' first (what masked it as it streamed),
   * then each replay run's by time. One per audit run when the audit is whole.
   */
  findAll(topic: string, partition: number, offset: bigint): AuditedRecord[] {
    const found = (this.records.get(`${partitionKey(topic, partition)}:${offset}`) ?? []).map(fromRecordEvent);
    for (const chunk of this.chunksAt(topic, partition, offset)) {
      const record = this.recordOf(chunk, offset);
      if (record !== undefined) found.push(record);
    }
    return found.sort((a, b) => Number(a.replayed === true) - Number(b.replayed === true) || a.from.time.localeCompare(b.from.time));
  }

  /** The audit runs (see {@link AuditedRecord.group}) with events in `from`..`to` of a partition: the workers' first. */
  groupsIn(topic: string, partition: number, from: bigint, to: bigint): string[] {
    const groups = new Map<string, boolean>();
    for (const chunk of this.chunksOf(topic, partition)) {
      if (BigInt(chunk.source.lastOffset) >= from && BigInt(chunk.source.firstOffset) <= to) groups.set(chunkGroup(chunk), chunk.replayed === true);
    }
    for (const record of this.recordsOf(topic, partition, from, to)) groups.set(recordGroup(record), record.replayed === true);
    return [...groups].sort((a, b) => Number(a[1]) - Number(b[1]) || a[0].localeCompare(b[0])).map(([g]) => g);
  }

  /** The chunk events whose range holds `offset`: one per audit run when the audit is whole, or none. */
  chunksAt(topic: string, partition: number, offset: bigint): ChunkAuditEvent[] {
    return this.chunksOf(topic, partition).filter((c) => BigInt(c.source.firstOffset) <= offset && offset <= BigInt(c.source.lastOffset));
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
    for (const [r] of this.records.values()) if (r !== undefined && r.source.topic === topic) found.add(r.source.partition);
    return [...found].sort((a, b) => a - b);
  }

  /**
   * Offsets `from`..`to` (inclusive) of one partition: outcomes, quarantined records, plans used, what no
   * event covers — of one audit run (`group`, see {@link groupsIn}), or of all of them added up.
   */
  summarize(topic: string, partition: number, from: bigint, to: bigint, group?: string): RangeSummary {
    const outcomes: Record<RecordOutcome, number> = { masked: 0, quarantined: 0, tombstone: 0 };
    const quarantined: AuditedRecord[] = [];
    const plans = new Map<string, PlanAuditEvent | undefined>();
    const covered: [bigint, bigint][] = [];
    let events = 0;
    let replays = 0;
    let approximate = false;
    for (const chunk of this.chunksOf(topic, partition)) {
      const first = BigInt(chunk.source.firstOffset);
      const last = BigInt(chunk.source.lastOffset);
      if (last < from || first > to || (group !== undefined && chunkGroup(chunk) !== group)) continue;
      events += 1;
      if (chunk.replayed === true) replays += 1;
      covered.push([first, last]);
      const counted = countInRange(chunk, from, to);
      approximate ||= counted.approximate;
      for (const outcome of ['masked', 'quarantined', 'tombstone'] as const) outcomes[outcome] += counted.outcomes[outcome];
      for (const run of chunk.plans) {
        if (BigInt(run.lastOffset) >= from && BigInt(run.firstOffset) <= to) plans.set(run.plan, this.plans.get(run.plan));
      }
      for (const entry of chunk.entries) {
        const at = BigInt(entry.offset);
        if (entry.outcome === 'quarantined' && at >= from && at <= to) {
          const record = this.recordOf(chunk, at);
          if (record !== undefined) quarantined.push(record);
        }
      }
    }
    for (const record of this.recordsOf(topic, partition, from, to)) {
      if (group !== undefined && recordGroup(record) !== group) continue;
      const at = BigInt(record.source.offset);
      events += 1;
      if (record.replayed === true) replays += 1;
      covered.push([at, at]);
      outcomes[record.outcome] += 1;
      if (record.outcome === 'quarantined') quarantined.push(fromRecordEvent(record));
    }
    quarantined.sort((a, b) => compareOffsets(a.offset, b.offset));
    return { events, outcomes, approximate, replayed: events > 0 && replays === events, uncovered: gaps(covered, from, to), quarantined, plans };
  }

  private *recordsOf(topic: string, partition: number, from: bigint, to: bigint): Generator<RecordAuditEvent> {
    for (const list of this.records.values()) {
      for (const record of list) {
        const at = BigInt(record.source.offset);
        if (record.source.topic === topic && record.source.partition === partition && at >= from && at <= to) yield record;
      }
    }
  }

  /** The record at `offset` as `chunk` tells it; undefined when the offset is in no entry and no plan run (not a record). */
  recordOf(chunk: ChunkAuditEvent, offset: bigint): AuditedRecord | undefined {
    const text = offset.toString();
    const entry = chunk.entries.find((e) => e.offset === text);
    const run = entry?.outcome === 'quarantined'
      ? undefined
      : chunk.plans.find((r) => BigInt(r.firstOffset) <= offset && offset <= BigInt(r.lastOffset));
    // Every record of a chunk is in a plan run (it was masked by a plan) or has an entry (it was not a plain masked one).
    if (entry === undefined && run === undefined) return undefined;
    const plan = run === undefined ? undefined : this.plans.get(run.plan);
    return {
      route: chunk.route,
      topic: chunk.source.topic,
      partition: chunk.source.partition,
      offset: text,
      outcome: entry?.outcome ?? 'masked',
      ...(run === undefined ? {} : { planHash: run.plan }),
      ...(plan === undefined ? {} : {
        policy: plan.policy,
        schemaId: plan.schemaId,
        ...(plan.keySchemaId === undefined ? {} : { keySchemaId: plan.keySchemaId }),
        keyId: plan.keyId,
        fields: plan.fields,
      }),
      ...(entry?.outcome === 'quarantined' ? {} : { target: chunk.target.topic }),
      ...(entry?.error === undefined ? {} : { error: entry.error }),
      ...(entry?.newSchema === true ? { newSchema: true } : {}),
      ...(entry?.detections === undefined ? {} : { detections: entry.detections }),
      ...(chunk.replayed === true ? { replayed: true } : {}),
      group: chunkGroup(chunk),
      from: { type: 'chunk', id: chunk.id, time: chunk.time },
    };
  }
}

/**
 * The records of `chunk` between `from` and `to` per outcome. Quarantined records and tombstones each have
 * an entry; masked ones lie in plan runs (with the tombstones whose key a plan masked, subtracted here).
 */
function countInRange(chunk: ChunkAuditEvent, from: bigint, to: bigint): { outcomes: Record<RecordOutcome, number>; approximate: boolean } {
  const first = BigInt(chunk.source.firstOffset);
  const last = BigInt(chunk.source.lastOffset);
  if (from <= first && last <= to) return { outcomes: { ...chunk.outcomes }, approximate: false };
  const outcomes: Record<RecordOutcome, number> = { masked: 0, quarantined: 0, tombstone: 0 };
  let approximate = false;
  const runs = chunk.plans.map((r) => ({ first: BigInt(r.firstOffset), last: BigInt(r.lastOffset), records: r.records }));
  for (const run of runs) {
    const lo = run.first > from ? run.first : from;
    const hi = run.last < to ? run.last : to;
    if (lo > hi) continue;
    const overlap = Number(hi - lo + 1n);
    const contiguous = BigInt(run.records) === run.last - run.first + 1n;
    if (!contiguous && overlap < run.last - run.first + 1n) approximate = true;
    outcomes.masked += Math.min(overlap, run.records);
  }
  for (const entry of chunk.entries) {
    const at = BigInt(entry.offset);
    if (at < from || at > to) continue;
    if (entry.outcome !== 'masked') outcomes[entry.outcome] += 1;
    if (entry.outcome === 'tombstone' && runs.some((r) => r.first <= at && at <= r.last)) outcomes.masked -= 1;
  }
  return { outcomes, approximate };
}

/** The stretches of `from`..`to` that no interval of `covered` holds. */
function gaps(covered: [bigint, bigint][], from: bigint, to: bigint): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  let next = from;
  for (const [a, b] of covered.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    if (a > next) out.push({ from: next.toString(), to: (a - 1n < to ? a - 1n : to).toString() });
    if (b + 1n > next) next = b + 1n;
    if (next > to) return out;
  }
  if (next <= to) out.push({ from: next.toString(), to: to.toString() });
  return out;
}

/**
 * One view per audited source record, in the order of `events`: each v1 record event, and each record of
 * each chunk event (its offsets that are no record — a transactional source's markers — skipped). A replayed
 * offset appears once per audit run. `index` must hold `events`.
 */
export function auditedRecords(events: readonly AuditEvent[], index: AuditIndex): AuditedRecord[] {
  const out: AuditedRecord[] = [];
  for (const e of events) {
    if (e.type === 'record') out.push(fromRecordEvent(e));
    if (e.type !== 'chunk') continue;
    for (let at = BigInt(e.source.firstOffset); at <= BigInt(e.source.lastOffset); at++) {
      const record = index.recordOf(e, at);
      if (record !== undefined) out.push(record);
    }
  }
  return out;
}

/** A v1 record event as an {@link AuditedRecord}. */
export function fromRecordEvent(event: RecordAuditEvent): AuditedRecord {
  return {
    route: event.route,
    topic: event.source.topic,
    partition: event.source.partition,
    offset: event.source.offset,
    outcome: event.outcome,
    ...(event.policy === null ? {} : { policy: event.policy }),
    schemaId: event.schemaId,
    ...(event.keySchemaId?.source == null || event.keySchemaId.target === null
      ? {}
      : { keySchemaId: { source: event.keySchemaId.source, target: event.keySchemaId.target } }),
    keyId: event.keyId,
    ...(event.target === null ? {} : { target: event.target.topic }),
    fields: event.fields,
    ...(event.error === undefined ? {} : { error: event.error }),
    ...(event.newSchema === true ? { newSchema: true } : {}),
    ...(event.detections === undefined ? {} : { detections: event.detections }),
    ...(event.replayed === true ? { replayed: true } : {}),
    group: recordGroup(event),
    from: { type: 'record', id: event.id, time: event.time },
  };
}

/** A chunk's audit run: its consumer group (`replay` for a replayed chunk that names none). */
function chunkGroup(chunk: ChunkAuditEvent): string {
  return chunk.group !== '' ? chunk.group : chunk.replayed === true ? 'replay' : '';
}

/** v1 record events name no group: replayed ones form one run, the rest another. */
function recordGroup(event: RecordAuditEvent): string {
  return event.replayed === true ? 'replay' : '';
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function compareOffsets(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
