import { describe, expect, it } from 'vitest';
import { encodeAuditEvent } from '../../../src/audit/audit-event.js';
import { parseAuditEvent } from '../../../src/audit/audit-parse.js';
import { chunk0, planEvent, recordEvent } from './audit-events.js';

describe('parseAuditEvent', () => {
  it('reads the events the worker writes, v1 and v2', () => {
    for (const event of [planEvent('aaaa', 1), chunk0, recordEvent(0)]) {
      expect(parseAuditEvent(encodeAuditEvent(event))).toEqual({ event });
    }
    const policy = { schema: 'masker.audit/v1', type: 'policy-applied', id: 'x', time: 't', policy: { name: 'p', version: 1, sha256: 's' } };
    expect(parseAuditEvent(Buffer.from(JSON.stringify(policy)))).toEqual({ event: policy });
  });

  it('says why a message is not an event it can index', () => {
    const problem = (value: Buffer | null): string => {
      const parsed = parseAuditEvent(value);
      return 'problem' in parsed ? parsed.problem : 'parsed';
    };
    expect(problem(null)).toBe('empty message');
    expect(problem(Buffer.from([0, 0, 0, 0, 7, 2]))).toBe('not JSON');
    expect(problem(Buffer.from('42'))).toBe('not a JSON object');
    expect(problem(Buffer.from('{"schema":"other/v9","type":"chunk"}'))).toBe('unknown schema "other/v9"');
    expect(problem(Buffer.from('{"schema":"masker.audit/v2","type":"batch"}'))).toBe('unknown type "batch"');
    // masker serve's per-call events share the topic: another type, not a malformed message.
    expect(parseAuditEvent(Buffer.from('{"schema":"masker.audit/v1","type":"http-mask","id":"x"}'))).toEqual({ problem: 'unknown type "http-mask"', otherType: true });
    expect(parseAuditEvent(Buffer.from('{"schema":"other/v9","type":"chunk"}'))).not.toHaveProperty('otherType');
    const { plans: _plans, ...noPlans } = chunk0;
    expect(problem(Buffer.from(JSON.stringify(noPlans)))).toBe('chunk event without plans');
    expect(problem(Buffer.from(JSON.stringify({ ...recordEvent(0), source: { topic: 'orders', partition: 0 } })))).toBe('record event without source.offset');
  });
});
