import { AUDIT_SCHEMA_VERSION, AUDIT_V2_SCHEMA_VERSION, type AuditEvent } from './audit-event.js';

/** Reading audit messages back: the event a message holds, and what it accounts for. */

/**
 * One audit message's value as an event, or why it is not one (invalid JSON, another `schema`, an unknown
 * `type`, a missing field the index needs). Only the shape the index reads is checked. `otherType`: a
 * masker audit schema with a type this reader does not know (masker serve's `http-mask`, a later type) —
 * readers skip those rather than call them malformed.
 */
export function parseAuditEvent(value: Buffer | null): { event: AuditEvent } | { problem: string; otherType?: true } {
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
  if (missing === undefined) return { problem: `unknown type ${JSON.stringify(type)}`, otherType: true };
  const absent = missing.find((path) => valueAt(data, path) === undefined);
  if (absent !== undefined) return { problem: `${String(type)} event without ${absent}` };
  return { event: data as AuditEvent };
}

/** Fields the index reads, per event type (other types are kept but not indexed). */
const REQUIRED: Record<string, readonly string[]> = {
  record: ['source.topic', 'source.partition', 'source.offset', 'outcome'],
  chunk: ['group', 'source.topic', 'source.partition', 'source.firstOffset', 'source.lastOffset', 'outcomes', 'plans', 'entries'],
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

/** Source records an event accounts for: a v1 record event one, a v2 chunk event its `records`, others none. */
export function recordsAccountedFor(event: AuditEvent): number {
  return event.type === 'record' ? 1 : event.type === 'chunk' ? event.records : 0;
}
