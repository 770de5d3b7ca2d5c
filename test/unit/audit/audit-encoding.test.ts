import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_SCHEMA_VERSION, encodeAuditEvent, type AuditEvent, type FieldAudit, type RecordAuditEvent } from '../../../src/audit/audit-event.js';

function recordEvent(text: string, fields: readonly FieldAudit[], extra: Partial<RecordAuditEvent> = {}): RecordAuditEvent {
  return {
    schema: AUDIT_SCHEMA_VERSION,
    type: 'record',
    id: `${text}:0:7`,
    time: '2026-11-28T12:00:00.000Z',
    route: text,
    source: { topic: text, partition: 0, offset: '7' },
    target: { topic: `${text}.masked` },
    schemaId: { source: 1, target: 2 },
    policy: { name: text, version: 3, sha256: 'ab'.repeat(32) },
    keyId: 'default',
    outcome: 'masked',
    fields,
    ...extra,
  };
}

const plain = (event: AuditEvent): string => JSON.stringify(event);

describe('audit event encoding', () => {
  it('is byte for byte JSON.stringify, for any text in names, paths and errors', () => {
    const field = fc.record({ path: fc.string(), action: fc.string(), rule: fc.string() });
    fc.assert(fc.property(fc.string(), fc.array(field, { maxLength: 40 }), fc.option(fc.string()), (text, fields, message) => {
      const event = recordEvent(text, fields, message === null ? {} : { outcome: 'quarantined', error: { code: 'MASKER_ACTION', message } });
      expect(encodeAuditEvent(event).toString('utf8')).toBe(plain(event));
    }), { numRuns: 300 });
  });

  it('keeps the bytes right when a route or error text looks like the fields placeholder', () => {
    const tricky = '"fields":"\u0000"';
    const event = recordEvent(tricky, [{ path: tricky, action: 'redact', rule: tricky }], { error: { code: 'X', message: '\u0000' } });
    expect(encodeAuditEvent(event).toString()).toBe(plain(event));
  });

  it('gives the same bytes when the same decision objects are reused across records (cached JSON)', () => {
    const decisions: FieldAudit[] = [
      { path: 'after.email', action: 'pseudonymize', rule: 'emails' },
      { path: 'after.notes', action: 'scrub', rule: 'notes "free text"' },
    ];
    const first = recordEvent('r', decisions);
    const second = recordEvent('r', [decisions[1]!, decisions[0]!], { replayed: true, newSchema: true });
    expect(encodeAuditEvent(first).toString()).toBe(plain(first));
    expect(encodeAuditEvent(second).toString()).toBe(plain(second));
    expect(encodeAuditEvent(recordEvent('r', [])).toString()).toBe(plain(recordEvent('r', [])));
  });

  it('encodes policy events as they are', () => {
    const event: AuditEvent = { schema: AUDIT_SCHEMA_VERSION, type: 'policy-applied', id: 'p:1', time: '2026-11-28T12:00:00.000Z', policy: { name: 'p', version: 1, sha256: 'cd'.repeat(32) } };
    expect(encodeAuditEvent(event).toString()).toBe(plain(event));
  });
});
