import { createHash } from 'node:crypto';
import {
  AUDIT_V2_SCHEMA_VERSION,
  type ChunkAuditEvent,
  type ChunkEntry,
  type DetectionAudit,
  type PlanAuditEvent,
  type PlanRun,
} from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import type { CompiledPlan } from '../masking/index.js';
import { policyAudit, prefixed, type RecordFacts } from './record-processor.js';

/** A plan as audit v2 names it: its hash, the header value carrying it, and its `plan` event (time set when written). */
export interface PlanIdentity {
  readonly hash: string;
  /** The lineage header's value, made once: kafkajs would encode a string for every record. */
  readonly header: Buffer;
  readonly event: Omit<PlanAuditEvent, 'time'>;
  /** The target schema ids it was made for (value, key): a plan object is cached with them. */
  readonly valueTarget: number | null;
  readonly keyTarget: number | null;
}

/** Stands for "this part was not masked" in the plan cache (WeakMap keys must be objects). */
const NO_PLAN = {};

/**
 * The plans of one route as audit v2 names them, and which of them this worker has written a `plan` event
 * for in a committed transaction. A plan event goes into the transaction of the first chunk that uses the
 * plan, and counts as written only once that transaction committed (`committed`): a chunk whose
 * transaction aborts is masked again, and its plan event written again with it.
 */
export class RoutePlans {
  private readonly identities = new WeakMap<object, WeakMap<object, PlanIdentity>>();
  private readonly written = new Set<string>();
  /** Per source partition: the last offset of the chunk handled last, and the plans its transaction writes. */
  private readonly pending = new Map<number, { readonly lastOffset: bigint; readonly hashes: readonly string[] }>();

  constructor(private readonly route: Route, private readonly keyId: string) {}

  /** The plan that masked a record; undefined when nothing of it was masked (quarantined, kept key of a tombstone). */
  identify(facts: RecordFacts): PlanIdentity | undefined {
    const plans = facts.plans;
    if (plans === undefined || (plans.key === null && plans.value === null)) return undefined;
    let byKey = this.identities.get(plans.value ?? NO_PLAN);
    if (byKey === undefined) {
      byKey = new WeakMap();
      this.identities.set(plans.value ?? NO_PLAN, byKey);
    }
    const known = byKey.get(plans.key ?? NO_PLAN);
    // Compared as numbers: this runs for every record.
    if (known !== undefined && known.valueTarget === facts.value.targetSchemaId && known.keyTarget === (facts.key?.targetSchemaId ?? null)) return known;
    const identity = this.describe(facts, plans.key, plans.value);
    byKey.set(plans.key ?? NO_PLAN, identity);
    return identity;
  }

  /** The plan events a chunk using `used` must carry (those not yet written in a committed transaction). */
  toWrite(partition: number, lastOffset: string, used: ReadonlyMap<string, PlanIdentity>): PlanAuditEvent[] {
    const events: PlanAuditEvent[] = [];
    const time = new Date().toISOString();
    for (const [hash, identity] of used) if (!this.written.has(hash)) events.push({ ...identity.event, time });
    this.pending.set(partition, { lastOffset: BigInt(lastOffset), hashes: events.map((e) => e.plan) });
    return events;
  }

  /** The transaction of a chunk of `partition` ending at `lastOffset` committed. */
  committed(partition: number, lastOffset: string): void {
    const pending = this.pending.get(partition);
    if (pending === undefined || BigInt(lastOffset) < pending.lastOffset) return;
    for (const hash of pending.hashes) this.written.add(hash);
    this.pending.delete(partition);
  }

  private describe(facts: RecordFacts, keyPlan: CompiledPlan | null, valuePlan: CompiledPlan | null): PlanIdentity {
    const key = facts.key;
    const content = {
      route: this.route.name,
      source: { topic: this.route.source.topic },
      target: { topic: this.route.target.topic },
      schemaId: { source: facts.value.sourceSchemaId, target: facts.value.targetSchemaId },
      ...(key?.sourceSchemaId == null || key.targetSchemaId === null ? {} : { keySchemaId: { source: key.sourceSchemaId, target: key.targetSchemaId } }),
      policy: policyAudit(facts.policy),
      keyId: this.keyId,
      fields: [...prefixed('key', keyPlan?.decisions ?? []), ...(valuePlan?.decisions ?? [])],
    };
    const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
    const event: Omit<PlanAuditEvent, 'time'> = { schema: AUDIT_V2_SCHEMA_VERSION, type: 'plan', id: `plan:${hash}`, plan: hash, ...content };
    return { hash, header: Buffer.from(hash), event, valueTarget: facts.value.targetSchemaId, keyTarget: facts.key?.targetSchemaId ?? null };
  }
}

/**
 * The `chunk` event of one transaction, built record by record in offset order: counts per outcome, runs of
 * consecutive records masked by one plan, and an entry for each record that is not a plain masked one.
 */
export class ChunkAudit {
  private first: string | undefined;
  private last = '';
  private records = 0;
  private readonly outcomes = { masked: 0, quarantined: 0, tombstone: 0 };
  private readonly runs: PlanRun[] = [];
  private run: { plan: string; firstOffset: string; lastOffset: string; records: number } | undefined;
  private readonly entries: ChunkEntry[] = [];
  /** The plans this chunk used, in order of first use. */
  readonly plans = new Map<string, PlanIdentity>();

  /** `group`: the consumer group committing the chunk (the workers' or a replay run's). */
  constructor(private readonly route: Route, private readonly replayed: boolean, private readonly group = '') {}

  add(facts: RecordFacts, plan: PlanIdentity | undefined): void {
    const offset = facts.record.offset;
    this.first ??= offset;
    this.last = offset;
    this.records += 1;
    this.outcomes[facts.outcome] += 1;
    if (plan !== undefined) this.extendRun(plan, offset);
    else this.endRun();
    const detections = detectionsOf(facts);
    if (facts.outcome !== 'masked' || facts.newSchema || detections.length > 0) {
      this.entries.push({
        offset,
        outcome: facts.outcome,
        ...(facts.error === undefined ? {} : { error: facts.error }),
        ...(facts.newSchema ? { newSchema: true } : {}),
        ...(detections.length === 0 ? {} : { detections }),
      });
    }
  }

  /** The event; undefined for a chunk with no record. */
  event(topic: string, partition: number): ChunkAuditEvent | undefined {
    if (this.first === undefined) return undefined;
    this.endRun();
    return {
      schema: AUDIT_V2_SCHEMA_VERSION,
      type: 'chunk',
      id: `${topic}:${partition}:${this.first}-${this.last}`,
      time: new Date().toISOString(),
      route: this.route.name,
      group: this.group,
      source: { topic, partition, firstOffset: this.first, lastOffset: this.last },
      target: { topic: this.route.target.topic },
      records: this.records,
      outcomes: this.outcomes,
      plans: this.runs,
      entries: this.entries,
      ...(this.replayed ? { replayed: true } : {}),
    };
  }

  private extendRun(plan: PlanIdentity, offset: string): void {
    this.plans.set(plan.hash, plan);
    if (this.run?.plan === plan.hash) {
      this.run.lastOffset = offset;
      this.run.records += 1;
      return;
    }
    this.endRun();
    this.run = { plan: plan.hash, firstOffset: offset, lastOffset: offset, records: 1 };
  }

  /** A run ends at a record masked by another plan or by none (quarantined, a tombstone whose key was kept). */
  private endRun(): void {
    if (this.run !== undefined) this.runs.push(this.run);
    this.run = undefined;
  }
}

function detectionsOf(facts: RecordFacts): readonly DetectionAudit[] {
  if (facts.keyDetections.length === 0) return facts.valueDetections;
  return [...prefixed('key', facts.keyDetections), ...facts.valueDetections];
}

