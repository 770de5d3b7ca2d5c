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

export type AuditEvent = RecordAuditEvent | PolicyAuditEvent | SchemaAuditEvent;

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
