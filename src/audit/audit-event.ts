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
  readonly policy: { readonly name: string; readonly version: number; readonly sha256: string };
  readonly route?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export type AuditEvent = RecordAuditEvent | PolicyAuditEvent;

export function encodeAuditEvent(event: AuditEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}
