import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledPlan, Policy } from '../../src/masking/index.js';
import { compilePlan, maskEncoded, maskRecord, parsePolicy, PSEUDONYM_FORMATS } from '../../src/masking/index.js';
import { MaskerError } from '../../src/errors.js';
import { keyRing } from '../unit/masking/support.js';
import type { EnvelopeSpec } from './random-schemas.js';
import { debeziumSchema, debeziumValue, envelopeSpec, fieldSpec, quotedValues, rowSchema, rowValue, sensitiveString, sensitiveValues } from './random-schemas.js';

const keys = keyRing('property-secret-0123456789');
/** Raise with MASKER_PROPERTY_RUNS for a deeper search (CI keeps the default short). */
const RUNS = Number(process.env['MASKER_PROPERTY_RUNS'] ?? 150);

type Pick = (options: readonly string[]) => string;

type FreeText = 'scrub' | 'redact' | 'keep' | undefined;

/**
 * Rules by type (first match wins): every action here can apply to every field it matches, in the rows
 * and in the envelope (no date-shift entityPath: envelope fields have no row).
 */
function randomPolicy(choose: Pick, format: string, freeText: FreeText): Policy {
  const action = (name: string, options: readonly string[], tags: string[], type?: string[]): Record<string, unknown> => {
    const chosen = choose(options);
    const [act, param] = chosen.split(':');
    const params: Record<string, unknown> | undefined =
      act === 'pseudonymize' ? { format } :
      act === 'mask' ? { keepFirst: 1, keepLast: 1 } :
      act === 'generalize' ? (param === 'prefix' ? { keepPrefix: 3 } : { bucket: param === 'half' ? 0.5 : 10 }) :
      undefined;
    return { name, match: { tags, ...(type === undefined ? {} : { type }) }, action: act, ...(params === undefined ? {} : { params }) };
  };
  return parsePolicy({
    apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'property',
    ...(freeText === undefined ? {} : { envelope: { freeText } }),
    rules: [
      action('multi', ['redact', 'hash'], ['MULTI']),
      action('iso', ['date-shift', 'redact'], ['ISO']),
      action('uuids', ['redact', 'hash'], ['PII'], ['uuid']),
      action('dates', ['date-shift', 'redact', 'hash'], ['PII'], ['date', 'timestamp-millis']),
      action('strings', ['redact', 'hash', 'pseudonymize', 'mask', 'generalize:prefix'], ['PII'], ['string']),
      action('ints', ['redact', 'hash', 'generalize:ten'], ['PII'], ['int', 'long']),
      action('floats', ['redact', 'generalize:half'], ['PII'], ['float', 'double']),
      action('blobs', ['redact', 'hash'], ['PII'], ['bytes', 'fixed']),
    ],
  }, 'property-policy');
}

interface Case {
  readonly json: unknown;
  readonly type: avro.Type;
  readonly policy: Policy;
  readonly plan: CompiledPlan;
  readonly record: unknown;
  /** Set for Debezium envelopes (tagged envelope leaves, maybe source.query), compiled with envelope debezium. */
  readonly envelope: EnvelopeSpec | undefined;
  readonly freeText: FreeText;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    specs: fc.array(fieldSpec, { minLength: 1, maxLength: 8 }),
    envelope: fc.option(envelopeSpec, { nil: undefined }),
    freeText: fc.constantFrom<FreeText>(undefined, 'scrub', 'redact', 'keep'),
    choose: fc.func(fc.nat()),
    format: fc.constantFrom(...PSEUDONYM_FORMATS.filter((f) => f !== 'uuid')),
  })
  .chain(({ specs, envelope, freeText, choose, format }) => {
    const row = rowSchema(specs, 'Row');
    const json = envelope === undefined ? row : debeziumSchema(row, envelope);
    const type = avro.Type.forSchema(json as avro.Schema);
    const pick: Pick = (options) => options[choose(options.join()) % options.length]!;
    const policy = randomPolicy(pick, format, freeText);
    const plan = compilePlan(type, policy, { envelope: envelope === undefined ? 'none' : 'debezium', schemaJson: json });
    const value = rowValue(specs);
    const record: fc.Arbitrary<unknown> = envelope === undefined ? value : debeziumValue(value, envelope);
    return record.map((r) => ({ json, type, policy, plan, record: r, envelope, freeText }));
  });

/** A plan for the case's schema that keeps every field: it only checks the framing of a body. */
function keepAll(c: Case): CompiledPlan {
  const keep = parsePolicy({
    apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'keep-all',
    envelope: { freeText: 'keep' },
    rules: [{ name: 'keep', match: { tags: ['PII'] }, action: 'keep', params: { reason: 'framing check' } }],
  }, 'keep-all');
  return compilePlan(c.type, keep, { envelope: c.plan.envelope, schemaJson: c.json });
}

interface JsonRecord { type: unknown; name?: string; fields?: { name: string; type: unknown; 'confluent:tags'?: string[] }[]; items?: unknown; values?: unknown }

/** Record schemas by name, so that a reference (`"Row"` in `after`) can be followed. */
function namedRecords(json: unknown, out = new Map<string, JsonRecord>()): Map<string, JsonRecord> {
  if (Array.isArray(json)) for (const b of json) namedRecords(b, out);
  else if (typeof json === 'object' && json !== null) {
    const s = json as JsonRecord;
    if (s.type === 'record' && typeof s.name === 'string') out.set(s.name, s);
    for (const f of s.fields ?? []) namedRecords(f.type, out);
    if (s.items !== undefined) namedRecords(s.items, out);
    if (s.values !== undefined) namedRecords(s.values, out);
  }
  return out;
}

/**
 * Untagged leaves (outside any tagged field) must come out deep-equal — except the free-text envelope
 * field `source.query` (record Source), which envelope.freeText may scrub or redact.
 */
function expectUntouched(schemaJson: unknown, input: unknown, output: unknown, named = namedRecords(schemaJson)): void {
  if (input === null || input === undefined) {
    expect(output).toEqual(input);
    return;
  }
  if (typeof schemaJson === 'string' && named.has(schemaJson)) {
    expectUntouched(named.get(schemaJson), input, output, named);
    return;
  }
  if (Array.isArray(schemaJson)) {
    const complex = schemaJson.find((b) => (typeof b === 'object' && b !== null) || (typeof b === 'string' && named.has(b)));
    expectUntouched(complex ?? schemaJson.find((b) => b !== 'null'), input, output, named);
    return;
  }
  if (typeof schemaJson === 'object' && schemaJson !== null) {
    const s = schemaJson as JsonRecord;
    if (s.type === 'record' && s.fields !== undefined) {
      for (const f of s.fields) {
        if ((f['confluent:tags'] ?? []).length > 0) continue;
        if (s.name === 'Source' && f.name === 'query') continue;
        expectUntouched(f.type, (input as Record<string, unknown>)[f.name], (output as Record<string, unknown>)[f.name], named);
      }
      return;
    }
    if (s.type === 'array') {
      (input as unknown[]).forEach((v, i) => expectUntouched(s.items, v, (output as unknown[])[i], named));
      return;
    }
    if (s.type === 'map') {
      for (const [k, v] of Object.entries(input as Record<string, unknown>)) expectUntouched(s.values, v, (output as Record<string, unknown>)[k], named);
      return;
    }
  }
  expect(output).toEqual(input);
}

describe('masking properties (random schemas and records)', () => {
  it('no raw sensitive value appears anywhere in the encoded output', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const encoded = c.type.toBuffer(maskRecord(c.plan, c.record, keys).value);
      for (const raw of sensitiveValues(c.record)) expect(encoded.includes(raw)).toBe(false);
    }), { numRuns: RUNS });
  });

  it('non-sensitive fields come out identical, envelope metadata included', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const out = maskRecord(c.plan, c.record, keys).value;
      expectUntouched(c.json, c.record, out);
      if (c.envelope !== undefined) for (const meta of ['op', 'ts_ms']) expect((out as Record<string, unknown>)[meta]).toEqual((c.record as Record<string, unknown>)[meta]);
    }), { numRuns: RUNS });
  });

  it('an untagged source.query is scrubbed (default), redacted or kept as envelope.freeText says, on both paths', () => {
    fc.assert(fc.property(caseArb, (c) => {
      if (c.envelope === undefined || c.envelope.query === 'none' || c.envelope.queryTagged) return;
      const body = c.type.toBuffer(c.record);
      const query = ((c.record as Record<string, Record<string, unknown>>)['source']!)['query'];
      const viaBytes = maskEncoded(c.plan, body, keys);
      const out = (c.type.fromBuffer(viaBytes.bytes) as Record<string, Record<string, unknown>>)['source']!['query'];
      if (query === null || query === undefined) {
        expect(out).toBeNull();
        return;
      }
      const mode = c.freeText ?? 'scrub';
      expect(viaBytes.fields).toContainEqual({ path: 'source.query', action: mode, rule: '(envelopeFreeText)' });
      if (mode === 'keep') expect(out).toBe(query);
      else if (mode === 'redact') expect(out).toBe('[REDACTED]');
      else for (const raw of quotedValues(query as string)) expect(out).not.toContain(raw);
    }), { numRuns: RUNS });
  });

  it('the output validates against the schema, and masking is deterministic', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const once = maskRecord(c.plan, c.record, keys).value;
      expect(c.type.isValid(once)).toBe(true);
      const again = compilePlan(c.type, c.policy, { envelope: c.plan.envelope, schemaJson: c.json });
      expect(c.type.toBuffer(maskRecord(again, c.record, keys).value).equals(c.type.toBuffer(once))).toBe(true);
    }), { numRuns: RUNS });
  });

  it('the byte path (maskEncoded) gives the bytes and decisions of decode → maskRecord → encode', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const body = c.type.toBuffer(c.record);
      const viaObjects = maskRecord(c.plan, c.type.fromBuffer(body), keys);
      const viaBytes = maskEncoded(c.plan, body, keys);
      expect(viaBytes.bytes.equals(c.type.toBuffer(viaObjects.value))).toBe(true);
      expect(viaBytes.fields).toEqual(viaObjects.fields);
    }), { numRuns: RUNS });
  });

  it('the byte path fails closed on corrupted bodies: MASKER_DECODE, the object path\'s error, or output that decodes', () => {
    const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'truncate', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) });
    fc.assert(fc.property(caseArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (c, mutations) => {
      let body = c.type.toBuffer(c.record);
      for (const m of mutations) {
        const at = body.length === 0 ? 0 : m.at % body.length;
        if (m.kind === 'flip') body = Buffer.concat([body.subarray(0, at), Buffer.from([m.byte]), body.subarray(at + 1)]);
        else if (m.kind === 'truncate') body = body.subarray(0, at);
        else if (m.kind === 'insert') body = Buffer.concat([body.subarray(0, at), Buffer.from([m.byte]), body.subarray(at)]);
        else body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
      }
      let out: Buffer;
      try {
        out = maskEncoded(c.plan, body, keys).bytes;
      } catch (err) {
        expect(err).toBeInstanceOf(MaskerError);
        const { code, message } = err as MaskerError;
        // An unexpected exception (a TypeError, …) is wrapped as "… failed (TypeError)": never acceptable.
        expect(message).not.toMatch(/failed \(\w+\)$/);
        if (code === 'MASKER_DECODE') return;
        // An operator refusing a corrupted value. If the whole body frames (checked with a plan that keeps
        // every field; avsc itself would loop on a corrupted 2^50 block count), the object path agrees.
        try {
          maskEncoded(keepAll(c), body, keys);
        } catch {
          return; // the framing breaks after the refused value: the byte path stopped at the first problem
        }
        let decoded: unknown;
        try {
          decoded = c.type.fromBuffer(body);
        } catch (decodeErr) {
          // It frames, but holds a long beyond 2^53 (kept exactly by the byte path): avsc cannot compare.
          expect((decodeErr as Error).message).toBe('potential precision loss');
          return;
        }
        expect(() => maskRecord(c.plan, decoded, keys)).toThrow(expect.objectContaining({ code }));
        return;
      }
      // It framed as the schema: the output must too (a long beyond 2^53 in an untouched field is kept
      // exactly, which avsc cannot hold: that one refusal is expected).
      try {
        c.type.fromBuffer(out);
      } catch (err) {
        expect((err as Error).message).toBe('potential precision loss');
      }
    }), { numRuns: RUNS * 2 });
  });

  it('two fields with the same domain and the same input get the same pseudonym', () => {
    const json = {
      type: 'record', name: 'Same', fields: [
        { name: 'a', type: 'string', 'confluent:tags': ['PII', 'A'] },
        { name: 'b', type: ['null', 'string'], 'confluent:tags': ['PII', 'B'] },
        { name: 'c', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII', 'C'] },
      ],
    };
    const type = avro.Type.forSchema(json as avro.Schema);
    fc.assert(fc.property(fc.constantFrom(...PSEUDONYM_FORMATS.filter((f) => f !== 'uuid')), sensitiveString, (format, input) => {
      const rule = (name: string, tag: string): Record<string, unknown> => ({ name, match: { tags: [tag] }, action: 'pseudonymize', params: { format, domain: 'shared' } });
      const policy = parsePolicy({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'same', rules: [rule('one', 'A'), rule('two', 'B'), rule('three', 'C')] }, 'same');
      const plan = compilePlan(type, policy, { envelope: 'none', schemaJson: json });
      const out = maskRecord(plan, { a: input, b: input, c: [input, input] }, keys).value as { a: string; b: string; c: string[] };
      expect(out.b).toBe(out.a);
      expect(out.c).toEqual([out.a, out.a]);
      expect(out.a).not.toBe(input);
    }), { numRuns: RUNS });
  });
});

