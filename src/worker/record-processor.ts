import type { IHeaders } from 'kafkajs';
import type { InboundRecord } from '../kafka/transactional-loop.js';
import type { DetectionAudit, FieldAudit, RecordAuditEvent, RecordOutcome } from '../audit/audit-event.js';
import { AUDIT_SCHEMA_VERSION } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import { describeError, dispositionOf, MaskerError } from '../errors.js';
import { maskEncoded, PlanCache, UntaggedPiiError, type CompiledPlan, type EncodedMaskResult, type KeyRing } from '../masking/index.js';
import type { ActivePolicy } from '../policy/active-policy.js';
import type { SubjectPart } from '../policy/schema-approvals.js';
import type { RouteSchemaGuard } from '../policy/schema-guard.js';
import type { ResolvedSchema, SchemaLookup } from '../registry/schema-cache.js';
import { HEADER_BYTES, readFrame, writeHeader, type WireFrame } from '../registry/wire-format.js';

/** A consumed source record, as the Kafka layer hands it over. */
export type SourceRecord = InboundRecord;

export interface OutboundRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

/** Writer and target schema ids of one part of a record (null: no such part, or it was not masked). */
export interface PartIds {
  readonly sourceSchemaId: number | null;
  readonly targetSchemaId: number | null;
}

/**
 * What happened to one source record, for its audit (v1: one event of its own; v2: a line of its chunk's
 * event). Key and value lists are kept apart: joining them (with `key:` prefixes) costs, and only a v1
 * event needs it.
 */
export interface RecordFacts {
  readonly record: SourceRecord;
  readonly policy: ActivePolicy;
  readonly outcome: RecordOutcome;
  readonly value: PartIds;
  /** Present when the key was masked. */
  readonly key?: PartIds;
  /** The compiled plans that masked the key and value (absent when quarantined; a null part was not masked). */
  readonly plans?: { readonly key: CompiledPlan | null; readonly value: CompiledPlan | null };
  /** Decisions applied to this record's values, and what the safety net found, per part. */
  readonly keyFields: readonly FieldAudit[];
  readonly valueFields: readonly FieldAudit[];
  readonly keyDetections: readonly DetectionAudit[];
  readonly valueDetections: readonly DetectionAudit[];
  readonly error?: { readonly code: string; readonly message: string };
  /** The first record this worker masked with this value writer schema id. */
  readonly newSchema: boolean;
}

/** What one source record turns into: exactly one of target / quarantine, and the facts its audit needs. */
export interface ProcessedRecord {
  readonly target?: OutboundRecord;
  readonly quarantine?: OutboundRecord;
  readonly facts: RecordFacts;
}

export interface ProcessorSettings {
  readonly maxRecordBytes: number;
  /** Marks audit events of `masker replay`. */
  readonly replayed?: boolean;
}

interface MaskedPart extends PartIds {
  readonly bytes: Buffer | null;
  readonly plan: CompiledPlan | null;
  readonly fields: readonly FieldAudit[];
  readonly detections: readonly DetectionAudit[];
}

const UNMASKED: Omit<MaskedPart, 'bytes'> = { sourceSchemaId: null, targetSchemaId: null, plan: null, fields: [], detections: [] };
const NONE: readonly never[] = [];

/** Header names masker adds to quarantined records (on the source cluster). */
export const QUARANTINE_HEADERS = {
  code: 'masker.error.code',
  route: 'masker.route',
  topic: 'masker.source.topic',
  partition: 'masker.source.partition',
  offset: 'masker.source.offset',
} as const;

/** One Avro part of a record, framed once: its wire frame, or why it has none (quarantined). */
type FramedPart = { readonly frame: WireFrame } | { readonly error: MaskerError } | undefined;

/** What masking one writer schema of one part needs, resolved once per chunk (async); then used synchronously. */
type ResolvedPart =
  | { readonly ok: true; readonly plan: CompiledPlan; readonly target: { readonly id: number } | { readonly error: unknown } }
  | { readonly ok: false; readonly error: unknown };

/**
 * A chunk made ready for masking: each record's key and value framed once, and every distinct (part, writer
 * schema id) resolved to its plan and target id. Built by `prepare` (the only async step), read by `mask`.
 */
export interface PreparedChunk {
  readonly policy: ActivePolicy;
  readonly frames: ReadonlyMap<SourceRecord, { readonly key: FramedPart; readonly value: FramedPart }>;
  readonly parts: ReadonlyMap<string, ResolvedPart>;
}

/**
 * Turns source records into their masked target records or their quarantine records, plus audit events, in
 * two steps: `prepare` resolves what a chunk needs from the registry, the schema guard and the plan cache
 * (async, once per distinct writer schema), then `mask` masks each record synchronously — a pure core,
 * testable without Kafka. Errors with disposition `retry` (registry, Redis unavailable) are thrown by
 * `prepare` so the chunk is retried; every other failure quarantines the records it concerns — never the target.
 */
export class RecordProcessor {
  private readonly plans = new PlanCache();
  /** Writer schema ids this worker has masked at least once: the first record of a new id is flagged in its audit event. */
  private readonly seenSchemas = new Set<number>();
  private readonly targetIds = new Map<string, Promise<number>>();

  constructor(
    private readonly route: Route,
    private readonly lookup: SchemaLookup,
    private readonly keys: KeyRing,
    private readonly settings: ProcessorSettings,
    /** The schema-change guard: leaves of a writer schema no approved schema had are held (policy newFields). */
    private readonly guard?: RouteSchemaGuard,
  ) {}

  /** One record: prepare and mask (tests and single-record callers). */
  async process(record: SourceRecord, policy: ActivePolicy): Promise<ProcessedRecord> {
    return this.mask(record, await this.prepare([record], policy));
  }

  /** Frames every record once and resolves each distinct writer schema of the chunk. */
  async prepare(records: readonly SourceRecord[], policy: ActivePolicy): Promise<PreparedChunk> {
    const frames = new Map<SourceRecord, { key: FramedPart; value: FramedPart }>();
    const wanted = new Map<string, { part: SubjectPart; schemaId: number }>();
    for (const record of records) {
      const where = whereOf(record);
      const key = this.route.key === 'mask' && record.key !== null ? framePart(record.key, `${where} key`, true) : undefined;
      const value = record.value === null ? undefined : framePart(record.value, `${where} value`, false);
      frames.set(record, { key, value });
      for (const [part, framed] of [['key', key], ['value', value]] as const) {
        if (framed !== undefined && 'frame' in framed) wanted.set(partKey(part, framed.frame.schemaId), { part, schemaId: framed.frame.schemaId });
      }
    }
    const parts = new Map<string, ResolvedPart>();
    for (const [id, { part, schemaId }] of wanted) parts.set(id, await this.resolvePart(part, schemaId, policy));
    return { policy, frames, parts };
  }

  /** Masks one prepared record: synchronous, no I/O. */
  mask(record: SourceRecord, chunk: PreparedChunk): ProcessedRecord {
    const { policy } = chunk;
    const framed = chunk.frames.get(record);
    try {
      const where = whereOf(record);
      const size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
      if (size > this.settings.maxRecordBytes) {
        throw new MaskerError('MASKER_RECORD_TOO_LARGE', `${where}: ${size} bytes exceeds MASKER_MAX_RECORD_BYTES=${this.settings.maxRecordBytes}`);
      }
      if (framed === undefined) throw new MaskerError('MASKER_RECORD_SHAPE', `${where}: the record was not prepared with its chunk`);
      const key = this.maskKey(record, framed.key, chunk, where);
      const value = framed.value === undefined ? { ...UNMASKED, bytes: null } : this.maskPart(framed.value, 'value', chunk, `${where} value`);
      const headers = this.targetHeaders(record.headers);
      const facts: RecordFacts = {
        record,
        policy,
        outcome: record.value === null ? 'tombstone' : 'masked',
        value: { sourceSchemaId: value.sourceSchemaId, targetSchemaId: value.targetSchemaId },
        ...(key.sourceSchemaId === null ? {} : { key: { sourceSchemaId: key.sourceSchemaId, targetSchemaId: key.targetSchemaId } }),
        plans: { key: key.plan, value: value.plan },
        keyFields: key.fields,
        valueFields: value.fields,
        keyDetections: key.detections,
        valueDetections: value.detections,
        newSchema: this.firstOfSchema(value.sourceSchemaId),
      };
      return { target: { key: key.bytes, value: value.bytes, ...(headers === undefined ? {} : { headers }) }, facts };
    } catch (err) {
      const error = describeError(err);
      const valueSchemaId = framed?.value !== undefined && 'frame' in framed.value ? framed.value.frame.schemaId : null;
      return {
        quarantine: { key: record.key, value: record.value, headers: this.quarantineHeaders(record, error.code) },
        facts: {
          record,
          policy,
          outcome: 'quarantined',
          value: { sourceSchemaId: valueSchemaId, targetSchemaId: null },
          keyFields: NONE,
          valueFields: NONE,
          keyDetections: NONE,
          valueDetections: quarantinedDetection(err),
          error,
          newSchema: false,
        },
      };
    }
  }

  /** The v1 audit event of one processed record (`MASKER_AUDIT=record`). */
  recordAuditEvent(facts: RecordFacts): RecordAuditEvent {
    const { record, policy, outcome, key, error } = facts;
    const fields = facts.keyFields.length === 0 ? facts.valueFields : [...prefixed('key', facts.keyFields), ...facts.valueFields];
    const detections = facts.keyDetections.length === 0 ? facts.valueDetections : [...prefixed('key', facts.keyDetections), ...facts.valueDetections];
    return {
      schema: AUDIT_SCHEMA_VERSION,
      type: 'record',
      id: `${record.topic}:${record.partition}:${record.offset}`,
      time: new Date().toISOString(),
      route: this.route.name,
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
      target: outcome === 'quarantined' ? null : { topic: this.route.target.topic },
      schemaId: { source: facts.value.sourceSchemaId, target: facts.value.targetSchemaId },
      ...(key?.sourceSchemaId == null ? {} : { keySchemaId: { source: key.sourceSchemaId, target: key.targetSchemaId } }),
      policy: policyAudit(policy),
      keyId: this.keys.active.id,
      outcome,
      fields,
      ...(detections.length === 0 ? {} : { detections }),
      ...(error === undefined ? {} : { error }),
      ...(this.settings.replayed === true ? { replayed: true } : {}),
      ...(facts.newSchema ? { newSchema: true } : {}),
    };
  }

  /** A writer schema of one part: schema, held paths, plan, target id — or the error its records get. */
  private async resolvePart(part: SubjectPart, schemaId: number, policy: ActivePolicy): Promise<ResolvedPart> {
    try {
      const schema = await this.lookup.byId(schemaId);
      const held = this.guard === undefined
        ? undefined
        : this.guard.held(part, schemaId) ?? await this.guard.resolve(part, schema, policy.policy.newFields);
      const entry = this.plans.get(schema, policy, part === 'key' ? 'none' : this.route.envelope, held);
      if (!entry.ok) return entry;
      return { ok: true, plan: entry.plan, target: await this.targetSchema(`${this.route.target.topic}-${part}`, schemaId, schema) };
    } catch (err) {
      if (dispositionOf(err) === 'retry') throw err;
      return { ok: false, error: err };
    }
  }

  private maskKey(record: SourceRecord, framed: FramedPart, chunk: PreparedChunk, where: string): MaskedPart {
    const none = { ...UNMASKED, bytes: null };
    if (record.key === null || this.route.key === 'drop') return none;
    if (this.route.key === 'keep') return { ...none, bytes: record.key };
    try {
      return this.maskPart(framed, 'key', chunk, `${where} key`);
    } catch (err) {
      if (err instanceof UntaggedPiiError) throw new UntaggedPiiError(`key:${err.path}`, err.detectors);
      throw err;
    }
  }

  private maskPart(framed: FramedPart, part: SubjectPart, chunk: PreparedChunk, where: string): MaskedPart {
    if (framed === undefined) throw new MaskerError('MASKER_RECORD_SHAPE', `${where}: not framed`);
    if ('error' in framed) throw framed.error;
    const { frame } = framed;
    const resolved = chunk.parts.get(partKey(part, frame.schemaId));
    if (resolved === undefined) throw new MaskerError('MASKER_RECORD_SHAPE', `${where}: schema id ${frame.schemaId} was not prepared`);
    if (!resolved.ok) throw resolved.error;
    // Masked straight from the Avro bytes (no record decode / encode); errors name paths, never values.
    let masked: EncodedMaskResult;
    try {
      masked = maskEncoded(resolved.plan, frame.body, this.keys, HEADER_BYTES);
    } catch (err) {
      if (err instanceof MaskerError && err.code === 'MASKER_DECODE') {
        throw new MaskerError('MASKER_DECODE', `${where}: schema id ${frame.schemaId}: ${err.message}`);
      }
      throw err;
    }
    // A record that does not mask says why first; then a target subject that refused the schema.
    if ('error' in resolved.target) throw resolved.target.error;
    const targetSchemaId = resolved.target.id;
    writeHeader(masked.bytes, targetSchemaId);
    return { bytes: masked.bytes, sourceSchemaId: frame.schemaId, targetSchemaId, plan: resolved.plan, fields: masked.fields, detections: masked.detections };
  }

  /** The target id, or the error registering it (retry errors are thrown: the chunk is retried). */
  private async targetSchema(subject: string, writerId: number, schema: ResolvedSchema): Promise<{ id: number } | { error: unknown }> {
    try {
      return { id: await this.targetSchemaId(subject, writerId, schema) };
    } catch (err) {
      if (dispositionOf(err) === 'retry') throw err;
      return { error: err };
    }
  }

  /** The target subject's id for a writer schema, registered once per (subject, writer id). */
  private targetSchemaId(subject: string, writerId: number, schema: ResolvedSchema): Promise<number> {
    const key = `${subject}|${writerId}`;
    let pending = this.targetIds.get(key);
    if (pending === undefined) {
      // The writer's registry metadata tags go along: the masked data has the same fields (registry/schema-cache.ts).
      pending = this.lookup.register(subject, schema.text, schema.metadataTags);
      this.targetIds.set(key, pending);
      pending.catch(() => this.targetIds.delete(key));
    }
    return pending;
  }

  private firstOfSchema(id: number | null): boolean {
    if (id === null || this.seenSchemas.has(id)) return false;
    this.seenSchemas.add(id);
    return true;
  }

  private targetHeaders(headers: IHeaders | undefined): IHeaders | undefined {
    if (headers === undefined || this.route.headers === 'drop') return undefined;
    if (this.route.headers === 'keep') return headers;
    const allowed = new Set(this.route.allowHeaders);
    return Object.fromEntries(Object.entries(headers).filter(([name]) => allowed.has(name)));
  }

  private quarantineHeaders(record: SourceRecord, code: string): IHeaders {
    return {
      ...(record.headers ?? {}),
      [QUARANTINE_HEADERS.code]: code,
      [QUARANTINE_HEADERS.route]: this.route.name,
      [QUARANTINE_HEADERS.topic]: record.topic,
      [QUARANTINE_HEADERS.partition]: String(record.partition),
      [QUARANTINE_HEADERS.offset]: record.offset,
    };
  }
}

/** The policy as audit events name it. Toggles do not bump the version: the rules that were off are named. */
export function policyAudit(policy: ActivePolicy): NonNullable<RecordAuditEvent['policy']> {
  return {
    name: policy.name,
    version: policy.version,
    sha256: policy.sha256,
    ...(policy.disabledRules.size === 0 ? {} : { disabledRules: [...policy.disabledRules].sort() }),
  };
}

function whereOf(record: SourceRecord): string {
  return `${record.topic}/${record.partition}@${record.offset}`;
}

function partKey(part: SubjectPart, schemaId: number): string {
  return `${part}:${schemaId}`;
}

/** Frames a key or value; a key that is not in the wire format gets the route-specific message. */
function framePart(payload: Buffer, where: string, isKey: boolean): FramedPart {
  if (isKey && (payload.length < HEADER_BYTES || payload[0] !== 0)) {
    return { error: new MaskerError('MASKER_KEY_FORMAT', `${where}: route key: mask needs an Avro key in the Confluent wire format (set key: keep or drop for other keys)`) };
  }
  try {
    return { frame: readFrame(payload, where) };
  } catch (err) {
    return { error: err instanceof MaskerError ? err : new MaskerError('MASKER_WIRE_FORMAT', `${where}: not in the Confluent wire format`) };
  }
}

/** Entries with their paths prefixed (`key:`), for the key part of a record. */
export function prefixed<T extends { readonly path: string }>(prefix: string, entries: readonly T[]): T[] {
  return entries.map((f) => ({ ...f, path: `${prefix}:${f.path}` }));
}

/** The safety net's finding that quarantined a record, for its audit event (field and detectors only). */
function quarantinedDetection(err: unknown): DetectionAudit[] {
  return err instanceof UntaggedPiiError ? [{ path: err.path, detectors: err.detectors, outcome: 'quarantined' }] : [];
}
