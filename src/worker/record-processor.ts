import type { IHeaders } from 'kafkajs';
import type { InboundRecord } from '../kafka/transactional-loop.js';
import type { AuditEvent, DetectionAudit, FieldAudit, RecordAuditEvent, RecordOutcome } from '../audit/audit-event.js';
import { AUDIT_SCHEMA_VERSION } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import { describeError, dispositionOf, MaskerError } from '../errors.js';
import { maskEncoded, PlanCache, UntaggedPiiError, type EncodedMaskResult, type KeyRing } from '../masking/index.js';
import type { ActivePolicy } from '../policy/active-policy.js';
import type { SubjectPart } from '../policy/schema-approvals.js';
import type { RouteSchemaGuard } from '../policy/schema-guard.js';
import type { ResolvedSchema, SchemaLookup } from '../registry/schema-cache.js';
import { HEADER_BYTES, readFrame, writeHeader } from '../registry/wire-format.js';

/** A consumed source record, as the Kafka layer hands it over. */
export type SourceRecord = InboundRecord;

export interface OutboundRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

/** What one source record turns into: exactly one of target / quarantine, and always one audit event. */
export interface ProcessedRecord {
  readonly target?: OutboundRecord;
  readonly quarantine?: OutboundRecord;
  readonly audit: AuditEvent;
}

export interface ProcessorSettings {
  readonly maxRecordBytes: number;
  /** Marks audit events of `masker replay`. */
  readonly replayed?: boolean;
}

interface MaskedPart {
  readonly bytes: Buffer | null;
  readonly sourceSchemaId: number | null;
  readonly targetSchemaId: number | null;
  readonly fields: readonly FieldAudit[];
  readonly detections: readonly DetectionAudit[];
}

const UNMASKED: Omit<MaskedPart, 'bytes'> = { sourceSchemaId: null, targetSchemaId: null, fields: [], detections: [] };

/** Header names masker adds to quarantined records (on the source cluster). */
export const QUARANTINE_HEADERS = {
  code: 'masker.error.code',
  route: 'masker.route',
  topic: 'masker.source.topic',
  partition: 'masker.source.partition',
  offset: 'masker.source.offset',
} as const;

/**
 * Turns one source record into its masked target record or its quarantine record, plus the audit event.
 * Errors with disposition `retry` (registry/broker unavailable) are rethrown so the batch is retried;
 * every other failure quarantines the record — it never reaches the target.
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

  async process(record: SourceRecord, policy: ActivePolicy): Promise<ProcessedRecord> {
    const where = `${record.topic}/${record.partition}@${record.offset}`;
    let valueSchemaId: number | null = null;
    try {
      const size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
      if (size > this.settings.maxRecordBytes) {
        throw new MaskerError('MASKER_RECORD_TOO_LARGE', `${where}: ${size} bytes exceeds MASKER_MAX_RECORD_BYTES=${this.settings.maxRecordBytes}`);
      }
      if (record.value !== null) valueSchemaId = peekSchemaId(record.value);
      const key = await this.maskKey(record, policy, where);
      const value = record.value === null
        ? { ...UNMASKED, bytes: null }
        : await this.maskAvro(record.value, policy, 'value', this.route.envelope, `${where} value`);
      const outcome: RecordOutcome = record.value === null ? 'tombstone' : 'masked';
      const headers = this.targetHeaders(record.headers);
      const audit = this.audit(record, policy, outcome, value, key, [...prefixed('key', key.fields), ...value.fields], [...prefixed('key', key.detections), ...value.detections]);
      return {
        target: { key: key.bytes, value: value.bytes, ...(headers === undefined ? {} : { headers }) },
        audit: this.firstOfSchema(value.sourceSchemaId) ? { ...audit, newSchema: true } : audit,
      };
    } catch (err) {
      if (dispositionOf(err) === 'retry') throw err;
      const error = describeError(err);
      return {
        quarantine: { key: record.key, value: record.value, headers: this.quarantineHeaders(record, error.code) },
        audit: this.audit(record, policy, 'quarantined', { sourceSchemaId: valueSchemaId, targetSchemaId: null }, undefined, [], quarantinedDetection(err), error),
      };
    }
  }

  private async maskKey(record: SourceRecord, policy: ActivePolicy, where: string): Promise<MaskedPart> {
    const none = { ...UNMASKED, bytes: null };
    if (record.key === null || this.route.key === 'drop') return none;
    if (this.route.key === 'keep') return { ...none, bytes: record.key };
    if (record.key.length < 5 || record.key[0] !== 0) {
      throw new MaskerError('MASKER_KEY_FORMAT', `${where} key: route key: mask needs an Avro key in the Confluent wire format (set key: keep or drop for other keys)`);
    }
    try {
      return await this.maskAvro(record.key, policy, 'key', 'none', `${where} key`);
    } catch (err) {
      if (err instanceof UntaggedPiiError) throw new UntaggedPiiError(`key:${err.path}`, err.detectors);
      throw err;
    }
  }

  private async maskAvro(payload: Buffer, policy: ActivePolicy, part: SubjectPart, envelope: Route['envelope'], where: string): Promise<MaskedPart> {
    const frame = readFrame(payload, where);
    const schema = await this.lookup.byId(frame.schemaId);
    // A Map lookup per record; the store is read only on the first record of a schema id.
    const held = this.guard === undefined
      ? undefined
      : this.guard.held(part, frame.schemaId) ?? await this.guard.resolve(part, schema, policy.policy.newFields);
    const entry = this.plans.get(schema, policy, envelope, held);
    if (!entry.ok) throw entry.error;
    // Masked straight from the Avro bytes (no record decode / encode); errors name paths, never values.
    let masked: EncodedMaskResult;
    try {
      masked = maskEncoded(entry.plan, frame.body, this.keys, HEADER_BYTES);
    } catch (err) {
      if (err instanceof MaskerError && err.code === 'MASKER_DECODE') {
        throw new MaskerError('MASKER_DECODE', `${where}: schema id ${frame.schemaId}: ${err.message}`);
      }
      throw err;
    }
    const targetSchemaId = await this.targetSchemaId(`${this.route.target.topic}-${part}`, frame.schemaId, schema);
    writeHeader(masked.bytes, targetSchemaId);
    return { bytes: masked.bytes, sourceSchemaId: frame.schemaId, targetSchemaId, fields: masked.fields, detections: masked.detections };
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

  private audit(
    record: SourceRecord,
    policy: ActivePolicy,
    outcome: RecordOutcome,
    value: Pick<MaskedPart, 'sourceSchemaId' | 'targetSchemaId'>,
    key: MaskedPart | undefined,
    fields: readonly FieldAudit[],
    detections: readonly DetectionAudit[],
    error?: { code: string; message: string },
  ): RecordAuditEvent {
    return {
      schema: AUDIT_SCHEMA_VERSION,
      type: 'record',
      id: `${record.topic}:${record.partition}:${record.offset}`,
      time: new Date().toISOString(),
      route: this.route.name,
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
      target: outcome === 'quarantined' ? null : { topic: this.route.target.topic },
      schemaId: { source: value.sourceSchemaId, target: value.targetSchemaId },
      ...(key?.sourceSchemaId == null ? {} : { keySchemaId: { source: key.sourceSchemaId, target: key.targetSchemaId } }),
      policy: {
        name: policy.name,
        version: policy.version,
        sha256: policy.sha256,
        // Toggles do not bump the version: name the rules that were off, so a weakened record is visible.
        ...(policy.disabledRules.size === 0 ? {} : { disabledRules: [...policy.disabledRules].sort() }),
      },
      keyId: this.keys.active.id,
      outcome,
      fields,
      ...(detections.length === 0 ? {} : { detections }),
      ...(error === undefined ? {} : { error }),
      ...(this.settings.replayed === true ? { replayed: true } : {}),
    };
  }
}

function peekSchemaId(value: Buffer): number | null {
  return value.length >= 5 && value[0] === 0 ? value.readUInt32BE(1) : null;
}

function prefixed<T extends { readonly path: string }>(prefix: string, entries: readonly T[]): T[] {
  return entries.map((f) => ({ ...f, path: `${prefix}:${f.path}` }));
}

/** The safety net's finding that quarantined a record, for its audit event (field and detectors only). */
function quarantinedDetection(err: unknown): DetectionAudit[] {
  return err instanceof UntaggedPiiError ? [{ path: err.path, detectors: err.detectors, outcome: 'quarantined' }] : [];
}
