/**
 * Engine corpus: a before/after proof for refactors of src/masking. It compiles plans for many schemas ×
 * policies and records, for a fixed set of inputs, what the engine gives: the plan (decisions, warnings,
 * errors), `maskEncoded` on each Avro body, `maskRecord` on each decoded record (its value re-encoded) and on
 * each record as a caller holds it (printed as Avro JSON, as `masker mask` prints a line), and
 * `maskEncoded` on corrupted bodies — bytes as hex, or the error code and message. Run it before a change
 * and after it, then compare the two files: they must be identical.
 *
 *   node node_modules/vite-node/vite-node.mjs bench/engine/engine-corpus.ts /tmp/engine-corpus-before.json
 *   … change the engine …
 *   node node_modules/vite-node/vite-node.mjs bench/engine/engine-corpus.ts /tmp/engine-corpus-after.json
 *   cmp /tmp/engine-corpus-before.json /tmp/engine-corpus-after.json
 *
 * Inputs (all from fixed seeds):
 * - random row schemas and Debezium envelopes of the property tests (test/property/random-schemas.ts), with
 *   an entity field (`id`, of several types, or `ref.id` through a nullable record) for date shifts by
 *   entity and an untagged free-text field that sometimes holds PII (the safety net), each under two
 *   random policies that between them use every action, with random safety-net and unmatched settings
 *   (some parsed with wrapped unions, some with a held new field);
 * - root schemas that are not records (`string`, `long`, a nullable string, an array, a map);
 * - examples/customers-cdc.avsc with policies/default.yaml and bench/engine/bench-policy.yaml, on the
 *   engine benchmark's customer envelopes (both workloads).
 *
 * The file it writes holds masked values only of synthetic records; never point it at real data.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import type { CompiledPlan, Envelope, KeyRing, Policy } from '../../src/masking/index.js';
import { analyzePlan, maskEncoded, maskRecord, parsePolicy } from '../../src/masking/index.js';
import type { EntityKind, EnvelopeSpec, FieldSpec, PolicyChoices } from '../../test/property/random-schemas.js';
import {
  debeziumSchema, debeziumValue, ENTITY_KINDS, entityField, entityPathOf, entityValue, envelopeSpec, fieldSpec, policyChoices, rowSchema, rowValue, untaggedText, variedPolicy,
} from '../../test/property/random-schemas.js';
import { customerEnvelope, prng } from './customer-records.js';
import type { Workload } from './customer-records.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEED = 20_240_612;
const CASES = Number(process.env['CORPUS_CASES'] ?? 400);
const RECORDS_PER_CASE = 4;
const MUTATIONS_PER_CASE = 3;

const secret = new TextEncoder().encode('corpus-secret-0123456789abcdef');
const keys: KeyRing = { active: { id: 'corpus', secret }, keys: new Map([['corpus', { id: 'corpus', secret }]]) };

type Outcome = { readonly hex: string; readonly fields: unknown; readonly detections: unknown } | { readonly error: string };

function outcome(run: () => { bytes: Buffer; fields: unknown; detections: unknown }): Outcome {
  try {
    const { bytes, fields, detections } = run();
    return { hex: bytes.toString('hex'), fields, detections };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; name?: unknown };
    return { error: `${String(e.code ?? e.name)}: ${String(e.message)}` };
  }
}

interface CaseOutput {
  readonly name: string;
  readonly plan: unknown;
  readonly records: { readonly body: string; readonly encoded: Outcome; readonly record: Outcome }[];
  readonly values: { readonly json: string }[];
  readonly mutated: { readonly body: string; readonly encoded: Outcome }[];
}

interface Subject {
  readonly name: string;
  readonly json: unknown;
  readonly type: avro.Type;
  readonly policy: Policy;
  readonly envelope: Envelope;
  readonly heldPaths?: ReadonlySet<string>;
  /** Canonical Avro bodies. */
  readonly bodies: readonly Buffer[];
  /**
   * The records as a caller holds them (not decoded from Avro: floats need not be 32-bit values): masked
   * with `maskRecord` and printed as Avro JSON, as `masker mask` prints a JSON line.
   */
  readonly values?: readonly unknown[];
  /** Corrupted bodies (maskEncoded only). */
  readonly mutated?: readonly Buffer[];
}

function run(subject: Subject): CaseOutput {
  const analysis = analyzePlan(subject.type, subject.policy, {
    envelope: subject.envelope,
    schemaJson: subject.json,
    ...(subject.heldPaths === undefined ? {} : { heldPaths: subject.heldPaths }),
  });
  const plan: CompiledPlan | undefined = analysis.plan;
  const planSummary = {
    errors: analysis.errors,
    warnings: analysis.warnings,
    ...(plan === undefined ? {} : {
      decisions: plan.decisions,
      scannedPaths: plan.scannedPaths,
      quarantineReason: plan.quarantineReason,
      quarantineCode: plan.quarantineCode,
      policyName: plan.policyName,
      envelope: plan.envelope,
    }),
  };
  if (plan === undefined) return { name: subject.name, plan: planSummary, records: [], values: [], mutated: [] };
  const records = subject.bodies.map((body) => ({
    body: body.toString('hex'),
    encoded: outcome(() => maskEncoded(plan, body, keys)),
    record: outcome(() => {
      const result = maskRecord(plan, subject.type.fromBuffer(body), keys);
      return { bytes: subject.type.toBuffer(result.value), fields: result.fields, detections: result.detections };
    }),
  }));
  const values = (subject.values ?? []).map((value) => {
    try {
      const result = maskRecord(plan, value, keys);
      return { json: `${subject.type.toString(result.value)} ${JSON.stringify(result.fields)} ${JSON.stringify(result.detections)}` };
    } catch (err) {
      const e = err as { code?: unknown; name?: unknown };
      // The message is not compared: maskRecord checks the record's shape before masking now.
      return { json: `error ${String(e.code ?? e.name)}` };
    }
  });
  const mutated = (subject.mutated ?? []).map((body) => ({ body: body.toString('hex'), encoded: outcome(() => maskEncoded(plan, body, keys)) }));
  return { name: subject.name, plan: planSummary, records, values, mutated };
}

// ---- random schemas -------------------------------------------------------------------------------

/**
 * Floats as a caller writes them (JSON: any double, not only 32-bit values), untagged and tagged (the
 * `floats` rule: redact, generalize or keep).
 */
const callerFloat = fc.oneof(fc.constantFrom(19.99, 0.1, -0.5, 1e-7, 3.3), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }));
const FLOAT_FIELDS = [{ name: 'price', type: 'float' }, { name: 'weight', type: 'float', 'confluent:tags': ['PII'] }];

type Mutation = { readonly at: number; readonly kind: 'flip' | 'truncate' | 'insert' | 'delete'; readonly byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'truncate', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) });

function mutate(body: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = body;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'flip') out = Buffer.concat([out.subarray(0, at), Buffer.from([m.byte]), out.subarray(at + 1)]);
    else if (m.kind === 'truncate') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from([m.byte]), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
  }
  return out;
}

interface RandomCase {
  readonly specs: readonly FieldSpec[];
  readonly envelope: EnvelopeSpec | undefined;
  readonly entity: EntityKind;
  readonly choices: PolicyChoices;
  readonly wrapped: boolean;
  readonly holdFirst: boolean;
  readonly records: readonly unknown[];
  readonly mutations: readonly (readonly Mutation[])[];
}

const randomCase: fc.Arbitrary<RandomCase> = fc
  .record({
    specs: fc.array(fieldSpec, { minLength: 1, maxLength: 8 }),
    envelope: fc.option(envelopeSpec, { nil: undefined }),
    entity: fc.constantFrom(...ENTITY_KINDS),
    choices: policyChoices,
    wrapped: fc.boolean(),
    holdFirst: fc.boolean(),
    mutations: fc.array(fc.array(mutation, { minLength: 1, maxLength: 3 }), { minLength: MUTATIONS_PER_CASE, maxLength: MUTATIONS_PER_CASE }),
  })
  .chain((c) => {
    const base = fc.tuple(entityValue(c.entity), rowValue(c.specs), fc.option(untaggedText, { nil: null }), callerFloat, callerFloat)
      .map(([entity, row, contact, price, weight]) => ({ ...entity, ...row, contact, price, weight }));
    const record: fc.Arbitrary<unknown> = c.envelope === undefined ? base : debeziumValue(base, c.envelope);
    return fc.array(record, { minLength: RECORDS_PER_CASE, maxLength: RECORDS_PER_CASE }).map((records) => ({ ...c, records }));
  });

function randomSubjects(): Subject[] {
  const cases = fc.sample(randomCase, { seed: SEED, numRuns: CASES });
  const subjects: Subject[] = [];
  cases.forEach((c, i) => {
    const row = rowSchema(c.specs, 'Row');
    const fullRow = { ...row, fields: [entityField(c.entity), ...row.fields, { name: 'contact', type: ['null', 'string'] }, ...FLOAT_FIELDS] };
    const json = c.envelope === undefined ? fullRow : debeziumSchema(fullRow, c.envelope);
    const plain = avro.Type.forSchema(json as avro.Schema);
    const type = c.wrapped ? avro.Type.forSchema(json as avro.Schema, { wrapUnions: true }) : plain;
    const bodies = c.records.map((r) => plain.toBuffer(r));
    const envelope: Envelope = c.envelope === undefined ? 'none' : 'debezium';
    const mutated = c.mutations.map((m, j) => mutate(bodies[j % bodies.length]!, m));
    const firstLeaf = c.envelope === undefined ? 'f0' : 'after.f0';
    for (const variant of [0, 1] as const) {
      const policy = variant === 0
        ? variedPolicy({ ...c.choices, unmatched: 'redact', untagged: 'default' }, 0, entityPathOf(c.entity))
        : variedPolicy(c.choices, 1, entityPathOf(c.entity));
      subjects.push({
        name: `random-${i}-v${variant}${c.wrapped ? '-wrapped' : ''}`,
        json, type, policy, envelope, bodies, mutated,
        ...(c.wrapped ? {} : { values: c.records }),
        ...(variant === 1 && c.holdFirst ? { heldPaths: new Set([firstLeaf]) } : {}),
      });
    }
  });
  return subjects;
}

// ---- root schemas that are not records --------------------------------------------------------------

function rootSubjects(): Subject[] {
  const byType = (action: Record<string, unknown>): Policy => parsePolicy({
    apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'root',
    rules: [{ name: 'by-type', match: { type: ['string', 'long'] }, ...action }],
  }, 'root');
  const roots: { name: string; json: unknown; values: unknown[] }[] = [
    { name: 'string', json: 'string', values: ['jane@acme.com', '', 'plain'] },
    { name: 'long', json: 'long', values: [0, 42, -7, 9_007_199_254_740_990] },
    { name: 'nullable-string', json: ['null', 'string'], values: [null, 'jane@acme.com'] },
    { name: 'array', json: { type: 'array', items: 'string' }, values: [[], ['a', 'jane@acme.com']] },
    { name: 'map', json: { type: 'map', values: ['null', 'long'] }, values: [{}, { a: 1, b: null }] },
  ];
  const actions: Record<string, unknown>[] = [
    { action: 'redact' },
    { action: 'hash' },
    { action: 'date-shift' },
    { action: 'keep', params: { reason: 'root' } },
  ];
  const subjects: Subject[] = [];
  for (const root of roots) {
    const type = avro.Type.forSchema(root.json as avro.Schema);
    for (const action of actions) {
      subjects.push({ name: `root-${root.name}-${String(action['action'])}`, json: root.json, type, policy: byType(action), envelope: 'none', bodies: root.values.map((v) => type.toBuffer(v)), values: root.values });
    }
  }
  return subjects;
}

// ---- the example schema with the shipped policies ------------------------------------------------------

function exampleSubjects(): Subject[] {
  const json: unknown = JSON.parse(readFileSync(`${ROOT}examples/customers-cdc.avsc`, 'utf8'));
  const type = avro.Type.forSchema(json as avro.Schema);
  const subjects: Subject[] = [];
  for (const file of ['policies/default.yaml', 'bench/engine/bench-policy.yaml']) {
    const policy = parsePolicy(parseYaml(readFileSync(`${ROOT}${file}`, 'utf8')), file);
    for (const workload of ['cdc-update', 'distinct-rows'] as const satisfies readonly Workload[]) {
      const rand = prng(7);
      const values = Array.from({ length: 100 }, (_, i) => customerEnvelope(i, workload, rand));
      const bodies = values.map((v) => type.toBuffer(v));
      const mutated = bodies.slice(0, 20).map((body, i) => mutate(body, [{ at: i * 37, kind: (['flip', 'truncate', 'insert', 'delete'] as const)[i % 4]!, byte: (i * 53) % 256 }]));
      subjects.push({ name: `example-${file}-${workload}`, json, type, policy, envelope: 'debezium', bodies, values, mutated });
    }
  }
  return subjects;
}

const out = process.argv[2];
if (out === undefined) throw new Error('usage: engine-corpus.ts <output.json>');
const results = [...randomSubjects(), ...rootSubjects(), ...exampleSubjects()].map(run);
writeFileSync(out, `${JSON.stringify({ seed: SEED, cases: CASES, results }, null, 1)}\n`);
const counts = results.reduce((acc, r) => ({
  plans: acc.plans + 1,
  failedPlans: acc.failedPlans + (r.records.length === 0 ? 1 : 0),
  bodies: acc.bodies + r.records.length,
  errors: acc.errors + r.records.filter((x) => 'error' in x.encoded).length,
  mutated: acc.mutated + r.mutated.length,
}), { plans: 0, failedPlans: 0, bodies: 0, errors: 0, mutated: 0 });
console.log(`engine corpus written to ${out}: ${JSON.stringify(counts)}`);
