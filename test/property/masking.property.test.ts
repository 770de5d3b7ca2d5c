import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledPlan, Policy } from '../../src/masking/index.js';
import { compilePlan, maskEncoded, maskRecord, parsePolicy, PSEUDONYM_FORMATS } from '../../src/masking/index.js';
import { MaskerError } from '../../src/errors.js';
import { keyRing } from '../unit/masking/support.js';
import { referenceMaskBody, wrappedType } from './reference-masker.js';
import type { EnvelopeSpec } from './random-schemas.js';
import {
  debeziumSchema, debeziumValue, ENTITY_KINDS, entityField, entityPathOf, entityValue, envelopeSpec, fieldSpec, policyChoices, quotedValues, rowSchema, rowValue,
  sensitiveString, sensitiveValues, untaggedText, variedPolicy,
} from './random-schemas.js';

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

/**
 * Cases for the comparison with the reference masker: rows with a date-shift entity (`id` of several
 * types, or `ref.id` through a nullable record) and an untagged free-text `contact`, in a Debezium
 * envelope or not, under `variedPolicy` (every action, entity shifts, the safety net's settings,
 * onUnmatchedSensitive, a disabled rule).
 */
const oracleCaseArb: fc.Arbitrary<Case> = fc
  .record({
    specs: fc.array(fieldSpec, { minLength: 1, maxLength: 8 }),
    envelope: fc.option(envelopeSpec, { nil: undefined }),
    entity: fc.constantFrom(...ENTITY_KINDS),
    choices: policyChoices,
    variant: fc.constantFrom<0 | 1>(0, 1),
  })
  .chain(({ specs, envelope, entity, choices, variant }) => {
    const base = rowSchema(specs, 'Row');
    const row = { ...base, fields: [entityField(entity), ...base.fields, { name: 'contact', type: ['null', 'string'] }] };
    const json = envelope === undefined ? row : debeziumSchema(row, envelope);
    const type = avro.Type.forSchema(json as avro.Schema);
    const policy = variedPolicy(choices, variant, entityPathOf(entity));
    const disabledRules = new Set(choices.disableOne ? ['strings'] : []);
    const plan = compilePlan(type, policy, { envelope: envelope === undefined ? 'none' : 'debezium', schemaJson: json, disabledRules });
    const value = fc.tuple(entityValue(entity), rowValue(specs), fc.option(untaggedText, { nil: null })).map(([e, r, contact]) => ({ ...e, ...r, contact }));
    const record: fc.Arbitrary<unknown> = envelope === undefined ? value : debeziumValue(value, envelope);
    return record.map((r) => ({ json, type, policy, plan, record: r, envelope, freeText: choices.freeText }));
  });

/** What a masking gives: the bytes, decisions and detections, or the error code. */
type Outcome = { readonly hex: string; readonly fields: unknown; readonly detections: unknown } | { readonly code: string };

/**
 * Runs a masking. Errors are compared by the engine's contract: an operator's error is MASKER_ACTION (the
 * safety net's finding under onDetected: quarantine keeps its code), a quarantined plan its code.
 */
function outcomeOf(run: () => { bytes: Buffer; fields: unknown; detections: unknown }): Outcome {
  try {
    const { bytes, fields, detections } = run();
    return { hex: bytes.toString('hex'), fields, detections };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const kept = ['MASKER_UNTAGGED_PII', 'MASKER_UNMATCHED_SENSITIVE', 'MASKER_NEW_FIELDS', 'MASKER_OUTPUT_INVALID', 'MASKER_DECODE'];
    return { code: typeof code === 'string' && kept.includes(code) ? code : 'MASKER_ACTION' };
  }
}

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

/** Whether avsc decodes the body (it refuses longs beyond 2^53, which the engine copies exactly). */
function isDecodable(type: avro.Type, body: Buffer): boolean {
  try {
    type.fromBuffer(body);
    return true;
  } catch (err) {
    expect((err as Error).message).toBe('potential precision loss');
    return false;
  }
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

  it('an untagged source.query is scrubbed (default), redacted or kept as envelope.freeText says', () => {
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

  it('the engine (maskEncoded) gives the bytes, decisions and detections of the reference masker', () => {
    for (const arb of [caseArb, oracleCaseArb]) {
      fc.assert(fc.property(arb, (c) => {
        const body = c.type.toBuffer(c.record);
        const expected = outcomeOf(() => referenceMaskBody(c.plan, wrappedType(c.json), body, keys));
        expect(outcomeOf(() => maskEncoded(c.plan, body, keys))).toEqual(expected);
      }), { numRuns: RUNS });
    }
  });

  it('maskRecord gives the reference masker\'s value, decisions and detections', () => {
    fc.assert(fc.property(oracleCaseArb, (c) => {
      const body = c.type.toBuffer(c.record);
      const expected = outcomeOf(() => referenceMaskBody(c.plan, wrappedType(c.json), body, keys));
      expect(outcomeOf(() => {
        const result = maskRecord(c.plan, c.type.fromBuffer(body), keys);
        return { bytes: c.type.toBuffer(result.value), fields: result.fields, detections: result.detections };
      })).toEqual(expected);
    }), { numRuns: RUNS });
  });

  it('the engine fails closed on corrupted bodies: MASKER_DECODE, the reference masker\'s error, or output that decodes', () => {
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
        // every field; avsc itself would loop on a corrupted 2^50 block count), the reference masker agrees.
        try {
          maskEncoded(keepAll(c), body, keys);
        } catch {
          return; // the framing breaks after the refused value: the byte path stopped at the first problem
        }
        const reference = outcomeOf(() => referenceMaskBody(c.plan, wrappedType(c.json), body, keys));
        if ('hex' in reference) throw new Error(`the engine refused a body (${code}) that the reference masker masks`);
        // It frames, but holds a long beyond 2^53 (kept exactly by the engine): avsc cannot decode it.
        if (reference.code === 'MASKER_ACTION' && !isDecodable(c.type, body)) return;
        expect(reference.code).toBe(code);
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

