import { describe, expect, it } from 'vitest';
import type { CompiledPlan, PlanOptions, Policy } from '../../../src/masking/index.js';
import { maskEncoded, maskRecord } from '../../../src/masking/index.js';
import { referenceMaskBody, wrappedType } from '../../property/reference-masker.js';
import type { LoadedSchema } from './support.js';
import { keyRing, plan, policy, schema, thrown } from './support.js';

const keys = keyRing();

/** A producer's schema: tagged email, plus untagged free text, map, array and a non-string field. */
const customer = schema({
  type: 'record',
  name: 'Customer',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'comment', type: ['null', 'string'], default: null },
    { name: 'extra', type: { type: 'map', values: 'string' }, default: {} },
    { name: 'aliases', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'ref', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'status', type: 'string' },
  ],
});

const emailsOnly = [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } }];

function record(): Record<string, unknown> {
  return {
    id: 7,
    email: 'jane@acme.com',
    comment: 'Called from 415-555-0132, SSN 078-05-1120, card 4111 1111 1111 1111, mail bob@corp.example',
    extra: { secondary_email: 'bob.smith@mail.example.org', note: 'vip' },
    aliases: ['plain', 'reach me at +44 20 7946 0958'],
    ref: '3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f',
    status: 'active',
  };
}

/** Masks with maskRecord, checks the engine's bytes and detections against the reference masker; returns maskRecord's result. */
function maskBoth(s: LoadedSchema, p: CompiledPlan, value: Record<string, unknown>): ReturnType<typeof maskRecord> {
  const viaRecord = maskRecord(p, value, keys);
  const reference = referenceMaskBody(p, wrappedType(s.json), s.type.toBuffer(value), keys);
  const viaBytes = maskEncoded(p, s.type.toBuffer(value), keys);
  expect(viaBytes.bytes.equals(reference.bytes)).toBe(true);
  expect(viaBytes.detections).toEqual(reference.detections);
  expect(s.type.toBuffer(viaRecord.value).equals(reference.bytes)).toBe(true);
  expect(viaRecord.detections).toEqual(reference.detections);
  return viaRecord;
}

function planWith(p: Policy, options: Partial<PlanOptions> = {}): CompiledPlan {
  return plan(customer, p, options);
}

describe('safety net: PII in fields no rule masks', () => {
  it('scrubs untagged strings, map values and array items by default, and names field and detectors', () => {
    const out = maskBoth(customer, planWith(policy(emailsOnly)), record());
    const v = out.value as Record<string, unknown>;
    expect(v['comment']).toBe('Called from [PHONE], SSN [SSN], card [CREDIT_CARD], mail [EMAIL]');
    expect(v['extra']).toEqual({ secondary_email: '[EMAIL]', note: 'vip' });
    expect(v['aliases']).toEqual(['plain', 'reach me at [PHONE]']);
    expect(v['ref']).toBe('3f2b6c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f');
    expect(v['status']).toBe('active');
    expect(out.detections).toEqual([
      { path: 'comment', detectors: ['email', 'credit-card', 'ssn', 'phone'], outcome: 'scrubbed' },
      { path: 'extra{}', detectors: ['email'], outcome: 'scrubbed' },
      { path: 'aliases[]', detectors: ['phone'], outcome: 'scrubbed' },
    ]);
    expect(JSON.stringify(out.detections)).not.toContain('415');
  });

  it('quarantines the record with onDetected: quarantine, naming the field and detectors, never the value', () => {
    const p = planWith(policy(emailsOnly, { untagged: { onDetected: 'quarantine' } }));
    for (const attempt of [() => maskRecord(p, record(), keys), () => maskEncoded(p, customer.type.toBuffer(record()), keys)]) {
      const err = thrown(attempt);
      expect(err.code).toBe('MASKER_UNTAGGED_PII');
      expect(err.message).toContain('comment');
      expect(err.message).toContain('credit-card');
      expect(err.message).not.toContain('4111');
    }
    const clean = { ...record(), comment: 'no contact details', extra: {}, aliases: [] };
    expect(maskBoth(customer, p, clean).detections).toEqual([]);
  });

  it('passes values through with onDetected: alert, but never silently', () => {
    const out = maskBoth(customer, planWith(policy(emailsOnly, { untagged: { onDetected: 'alert' } })), record());
    expect((out.value as Record<string, unknown>)['comment']).toBe(record()['comment']);
    expect(out.detections.map((d) => [d.path, d.outcome])).toEqual([['comment', 'alerted'], ['extra{}', 'alerted'], ['aliases[]', 'alerted']]);
  });

  it('runs only the listed detectors; detect: [] turns the net off; keep fields are not scanned', () => {
    const emailDetector = maskBoth(customer, planWith(policy(emailsOnly, { untagged: { detect: ['email'] } })), record());
    expect((emailDetector.value as Record<string, unknown>)['comment']).toBe('Called from 415-555-0132, SSN 078-05-1120, card 4111 1111 1111 1111, mail [EMAIL]');
    const off = maskBoth(customer, planWith(policy(emailsOnly, { untagged: { detect: [] } })), record());
    expect(off.detections).toEqual([]);
    expect((off.value as Record<string, unknown>)['comment']).toBe(record()['comment']);
    const kept = planWith(policy([...emailsOnly, { name: 'comment', match: { path: 'comment' }, action: 'keep', params: { reason: 'reviewed' } }]));
    expect(kept.scannedPaths).not.toContain('comment');
    expect((maskBoth(customer, kept, record()).value as Record<string, unknown>)['comment']).toBe(record()['comment']);
  });

  it('rejects unknown detectors and onDetected values with their path', () => {
    expect(() => policy([], { untagged: { detect: ['passport'] } })).toThrow(/untagged\.detect\[0\]/);
    expect(() => policy([], { untagged: { onDetected: 'ignore' } })).toThrow(/untagged\.onDetected/);
    expect(() => policy([], { untagged: { mode: 'scrub' } })).toThrow(/untagged/);
  });

  it('copies strings that cannot hold PII without decoding them on the byte path', () => {
    const p = planWith(policy(emailsOnly));
    const quiet = { ...record(), comment: 'nothing to see', extra: { a: 'b' }, aliases: ['x'] };
    const body = customer.type.toBuffer(quiet);
    const masked = maskEncoded(p, body, keys);
    // Only the tagged email changed: every untagged string kept its bytes.
    const decoded = customer.type.fromBuffer(masked.bytes) as Record<string, unknown>;
    expect({ ...decoded, email: 'x' }).toEqual({ ...quiet, email: 'x' });
    expect(masked.detections).toEqual([]);
  });
});

describe('new fields not approved yet (heldPaths)', () => {
  const held = { heldPaths: new Set(['comment', 'extra{}', 'email']) };

  it('redacts unapproved untagged leaves until approved (default), recorded as (newField)', () => {
    const out = maskBoth(customer, planWith(policy(emailsOnly), held), record());
    const v = out.value as Record<string, unknown>;
    expect(v['comment']).toBe('[REDACTED]');
    expect(v['extra']).toEqual({ secondary_email: '[REDACTED]', note: '[REDACTED]' });
    expect(out.fields).toContainEqual({ path: 'comment', action: 'redact', rule: '(newField)' });
    // Approval never unmasks a tagged field, and tags win over the guard: email keeps its rule.
    expect(out.fields).toContainEqual({ path: 'email', action: 'pseudonymize', rule: 'emails' });
  });

  it('quarantines every record of the schema with newFields: quarantine', () => {
    const p = planWith(policy(emailsOnly, { newFields: 'quarantine' }), held);
    const err = thrown(() => maskRecord(p, record(), keys));
    expect(err.code).toBe('MASKER_NEW_FIELDS');
    expect(err.message).toContain('comment, extra{}');
  });

  it('lets them through to the safety net with newFields: pass', () => {
    const out = maskBoth(customer, planWith(policy(emailsOnly, { newFields: 'pass' }), held), record());
    expect((out.value as Record<string, unknown>)['extra']).toEqual({ secondary_email: '[EMAIL]', note: 'vip' });
  });
});
