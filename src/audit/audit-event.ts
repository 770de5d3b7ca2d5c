/**
 * One audit event per source record (and one per policy change). Encoded as JSON (UTF-8) on the audit
 * topic, keyed by `route`. JSON rather than Avro: audit readers are people and log pipelines, and the
 * shape is small and versioned by `schema` below. Never a raw value, never a masked value.
 */
export const AUDIT_SCHEMA_VERSION = 'masker.audit/v1';

export type RecordOutcome = 'masked' | 'quarantined' | 'tombstone';

export interface FieldAudit {
  readonly path: string;
  readonly action: string;
  readonly rule: string;
}

/** PII the safety net found in a field no rule masks: the field and detectors, never the value. */
export interface DetectionAudit {
  readonly path: string;
  readonly detectors: readonly string[];
  /** `scrubbed` and `alerted` records reach the target; `quarantined` ones do not. */
  readonly outcome: 'scrubbed' | 'alerted' | 'quarantined';
}

export interface RecordAuditEvent {
  readonly schema: typeof AUDIT_SCHEMA_VERSION;
  readonly type: 'record';
  /** `<topic>:<partition>:<offset>`: stable, so a consumer can de-duplicate. */
  readonly id: string;
  readonly time: string;
  readonly route: string;
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string };
  readonly target: { readonly topic: string } | null;
  readonly schemaId: { readonly source: number | null; readonly target: number | null };
  readonly keySchemaId?: { readonly source: number | null; readonly target: number | null };
  /** `disabledRules`: rules toggled off when this record was masked (absent when none). */
  readonly policy: { readonly name: string; readonly version: number; readonly sha256: string; readonly disabledRules?: readonly string[] } | null;
  readonly keyId: string;
  readonly outcome: RecordOutcome;
  readonly fields: readonly FieldAudit[];
  /** What the safety net (policy `untagged`) found in fields no rule masks (absent when nothing). */
  readonly detections?: readonly DetectionAudit[];
  readonly error?: { readonly code: string; readonly message: string };
  /** Set on the first record this worker masked with a writer schema id it had not seen before. */
  readonly newSchema?: boolean;
  /** Set when the record came through `masker replay`. */
  readonly replayed?: boolean;
}

export interface PolicyAuditEvent {
  readonly schema: typeof AUDIT_SCHEMA_VERSION;
  readonly type: 'policy-applied' | 'policy-rejected';
  readonly id: string;
  readonly time: string;
  /**
   * `disabledRules` (policy-applied): the rules toggled off in what was applied, sorted, `[]` when none — a
   * toggle does not bump the version, so this is what tells two applied events of one version apart.
   */
  readonly policy: { readonly name: string; readonly version: number; readonly sha256: string; readonly disabledRules?: readonly string[] };
  readonly route?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * The schema-change guard (docs/policy-language.md "New fields"): `schema-held` when a worker first meets a
 * writer schema with leaves no approved schema of its subject had (their paths; never values);
 * `schema-approved` when such a schema is approved (`by` the approver, from `masker schema approve`), or
 * recorded as a route's baseline (`by: "baseline"`, the first schema a worker met on that subject).
 */
export interface SchemaAuditEvent {
  readonly schema: typeof AUDIT_SCHEMA_VERSION;
  readonly type: 'schema-held' | 'schema-approved';
  readonly id: string;
  readonly time: string;
  readonly route: string;
  /** The source subject: `<source topic>-value` or `<source topic>-key`. */
  readonly subject: string;
  readonly schemaId: number;
  /** schema-held: the new leaf paths; schema-approved: the paths the approval releases (absent for a baseline). */
  readonly newPaths?: readonly string[];
  /** schema-held: the route's policy `newFields` mode when the schema was met (what happens to the new leaves). */
  readonly newFields?: string;
  /** schema-approved: who approved (`--by`), or `baseline`. */
  readonly by?: string;
}

/**
 * Audit v2 (`MASKER_AUDIT=chunk`, the default): instead of one event per record, one `chunk` event per
 * transaction, plus a `plan` event the first time a worker uses a plan. Both commit in the same transaction
 * as the records they describe. docs/audit.md is the format reference.
 */
export const AUDIT_V2_SCHEMA_VERSION = 'masker.audit/v2';

/** Audit modes: `chunk` (v2, default) or `record` (v1: one event per source record, unchanged). */
export type AuditMode = 'chunk' | 'record';

/** The name of the header carrying the plan hash on every record masked in `chunk` mode (lineage). */
export const PLAN_HEADER = 'masker.plan';
/**
 * The header carrying the source offset on every record masked in `chunk` mode (the partition is the
 * record's own): with the plan hash, a test service traces any record to its chunk event and its source.
 */
export const SOURCE_OFFSET_HEADER = 'masker.source.offset';

/**
 * What masked a record: the route's policy (version, sha256, disabled rules), the writer and target schema
 * ids of its value (and key), the key id, and every field decision the plan holds. `plan` is a hash of all
 * of it, so the same hash always means the same content: a worker may write a plan event more than once
 * (each worker the first time it uses the plan), never two different ones under one hash.
 */
export interface PlanAuditEvent {
  readonly schema: typeof AUDIT_V2_SCHEMA_VERSION;
  readonly type: 'plan';
  /** `plan:<hash>`. */
  readonly id: string;
  readonly time: string;
  readonly route: string;
  /** 16 hex digits: the first 64 bits of the SHA-256 of this event's content (all but id, time and plan). */
  readonly plan: string;
  readonly source: { readonly topic: string };
  readonly target: { readonly topic: string };
  /** Value schema ids; null for a key-only plan (a tombstone whose key is masked). */
  readonly schemaId: { readonly source: number | null; readonly target: number | null };
  readonly keySchemaId?: { readonly source: number; readonly target: number };
  readonly policy: { readonly name: string; readonly version: number; readonly sha256: string; readonly disabledRules?: readonly string[] };
  readonly keyId: string;
  /**
   * Every field decision of the plan (key fields prefixed `key:`). A record's optional fields that were null
   * had nothing to mask; a v1 record event lists only the decisions applied to its own values.
   */
  readonly fields: readonly FieldAudit[];
}

/** A record of a chunk that is not a plain masked one. */
export interface ChunkEntry {
  readonly offset: string;
  readonly outcome: RecordOutcome;
  readonly error?: { readonly code: string; readonly message: string };
  /** The first record this worker masked with this writer schema id. */
  readonly newSchema?: boolean;
  readonly detections?: readonly DetectionAudit[];
}

/** Consecutive records (in offset order) masked by one plan: a run ends at a record masked by another plan or by none. */
export interface PlanRun {
  readonly plan: string;
  readonly firstOffset: string;
  readonly lastOffset: string;
  /** Records of the run masked by this plan. */
  readonly records: number;
}

/**
 * One per transaction: the source records from `firstOffset` to `lastOffset` (inclusive) of one partition.
 * Every consumed source offset lies in exactly one committed chunk event of its consumer group (offsets
 * Kafka never delivers, such as transaction markers, may lie inside a range or between two ranges).
 */
export interface ChunkAuditEvent {
  readonly schema: typeof AUDIT_V2_SCHEMA_VERSION;
  readonly type: 'chunk';
  /** `<topic>:<partition>:<firstOffset>-<lastOffset>`. */
  readonly id: string;
  readonly time: string;
  readonly route: string;
  /**
   * The consumer group whose transaction committed this chunk: the workers' (MASKER_GROUP_ID) or a replay
   * run's. Each group's chunk events hold a source offset at most once; a replayed offset has one of the
   * workers' group and one per replay run.
   */
  readonly group: string;
  readonly source: { readonly topic: string; readonly partition: number; readonly firstOffset: string; readonly lastOffset: string };
  readonly target: { readonly topic: string };
  readonly records: number;
  readonly outcomes: { readonly masked: number; readonly quarantined: number; readonly tombstone: number };
  readonly plans: readonly PlanRun[];
  /** Records that are not plain masked ones: quarantined, tombstones, first of a new schema, with detections. */
  readonly entries: readonly ChunkEntry[];
  /** Set when the chunk came through `masker replay` (every record of it was re-masked). */
  readonly replayed?: boolean;
}

export type AuditEvent = RecordAuditEvent | PolicyAuditEvent | SchemaAuditEvent | PlanAuditEvent | ChunkAuditEvent;

/**
 * UTF-8 JSON of the event, byte for byte what JSON.stringify gives. A record event lists every masked path
 * (32 entries for a Debezium row under the default policy), and stringifying those small objects was ~10 µs
 * per record; the entries are the plan's own decision objects, the same for every record of a schema, so
 * each one's JSON is kept (weakly) and the list is joined from those.
 */
export function encodeAuditEvent(event: AuditEvent): Buffer {
  if (event.type !== 'record' || event.fields.length === 0) return Buffer.from(JSON.stringify(event), 'utf8');
  const text = JSON.stringify({ ...event, fields: FIELDS_PLACEHOLDER });
  return Buffer.from(text.replace(FIELDS_MARK, () => `"fields":${fieldsJson(event.fields)}`), 'utf8');
}

/** NUL is escaped by JSON.stringify, so this exact text appears only where the placeholder was put. */
const FIELDS_PLACEHOLDER = '\u0000';
const FIELDS_MARK = '"fields":"\\u0000"';
const fieldJson = new WeakMap<FieldAudit, string>();

function fieldsJson(fields: readonly FieldAudit[]): string {
  let list = '[';
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    let json = fieldJson.get(field);
    if (json === undefined) {
      json = JSON.stringify(field);
      fieldJson.set(field, json);
    }
    list += i === 0 ? json : `,${json}`;
  }
  return `${list}]`;
}
