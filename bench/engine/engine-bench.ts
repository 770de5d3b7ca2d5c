/**
 * Engine benchmark: decode → mask → encode of Debezium customer envelopes (27-field row, before + after),
 * on one core, against plain decode → encode measured in the same run (this machine is shared: quote
 * ratios, not absolute numbers). Slices of both loops alternate, and the median slice counts.
 *
 *   npm run bench:engine                      # ~10 s
 *   BENCH_SLICE_MS=2000 BENCH_ROUNDS=5 BENCH_RECORDS=50000 npm run bench:engine
 *   BENCH_SCENARIOS=bench:cdc-update,default:distinct-rows npm run bench:engine
 *
 * It runs compiled by tsc (bench/tsconfig.json → .bench-build/), as the worker runs: a TS loader's module
 * rewriting would add call overhead to the hot path being measured.
 *
 * Scenarios: policy `bench` (bench-policy.yaml: the 6 sensitive fields name, email, phone, SSN, birth
 * date, notes) or `default` (policies/default.yaml: every tagged field, 16 decisions per row), each also
 * as `<policy>-nonet` (the safety net on unmasked strings off, to price it), on
 * `cdc-update` records (after = before with a changed note/timestamp/version, as an UPDATE looks) or
 * `distinct-rows` (before and after are different customers: nothing shared, the worst case). Every
 * record is a distinct customer. Results are printed and written to bench/results/ (git-ignored).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { parse as parseYaml } from 'yaml';
import type { CompiledPlan, KeyRing } from '../../src/masking/index.js';
import { KeyedHasher } from '../../src/masking/crypto/keyed-hash.js';
import { compileFinder } from '../../src/masking/formats/detectors.js';
import { compilePlan, DETECTOR_NAMES, maskEncoded, maskRecord, parsePolicy } from '../../src/masking/index.js';
import type { Workload } from './customer-records.js';
import { customerEnvelope, prng } from './customer-records.js';

/** The repository root: this file runs compiled, from .bench-build/bench/engine/ (see bench/tsconfig.json). */
function repoRoot(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return fileURLToPath(dir);
    if (dir.pathname === '/') throw new Error('package.json not found above the benchmark');
  }
}
const ROOT = repoRoot();
const SLICE_MS = Number(process.env['BENCH_SLICE_MS'] ?? 300);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const RECORDS = Number(process.env['BENCH_RECORDS'] ?? process.argv[2] ?? 10_000);
/** `policy:workload` pairs. */
const SCENARIOS = (process.env['BENCH_SCENARIOS'] ?? 'bench:cdc-update,bench-nonet:cdc-update,bench:distinct-rows,default:cdc-update,default-nonet:cdc-update').split(',');

const schemaJson: unknown = JSON.parse(readFileSync(`${ROOT}examples/customers-cdc.avsc`, 'utf8'));
const type = avro.Type.forSchema(schemaJson as avro.Schema);
const POLICY_FILES: Readonly<Record<string, string>> = { bench: 'bench/engine/bench-policy.yaml', default: 'policies/default.yaml' };

/** `bench`, `default`, or either with `-nonet`: the same policy with the safety net off (`untagged.detect: []`). */
function planFor(name: string): CompiledPlan {
  const netOff = name.endsWith('-nonet');
  const file = POLICY_FILES[netOff ? name.slice(0, -'-nonet'.length) : name];
  if (file === undefined) throw new Error(`unknown policy ${name} (bench | default, optionally with -nonet)`);
  const doc = parseYaml(readFileSync(`${ROOT}${file}`, 'utf8')) as Record<string, unknown>;
  const policy = parsePolicy(netOff ? { ...doc, untagged: { detect: [] } } : doc, file);
  return compilePlan(type, policy, { envelope: 'debezium', schemaJson });
}
const secret = new TextEncoder().encode('bench-secret-0123456789abcdef');
const keys: KeyRing = { active: { id: 'bench', secret }, keys: new Map([['bench', { id: 'bench', secret }]]) };

type Loop = (buf: Buffer, value: unknown) => number;

/** With --expose-gc (npm run bench:engine): retained heap is measured after a full collection. */
const gc = (globalThis as { gc?: () => void }).gc;

const baseline: Loop = (buf) => type.toBuffer(type.fromBuffer(buf)).length;

/**
 * Runs `loop` over the inputs for `ms` milliseconds of wall time; returns records per CPU second of this
 * process (user + system), which other processes on a shared machine disturb far less than wall time.
 */
function slice(loop: Loop, buffers: readonly Buffer[], values: readonly unknown[], ms: number): number {
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const cpuStart = process.cpuUsage();
  let count = 0;
  let sink = 0;
  let i = 0;
  for (;;) {
    for (let j = 0; j < 256; j++) {
      sink += loop(buffers[i]!, values[i]);
      i = i + 1 === buffers.length ? 0 : i + 1;
    }
    count += 256;
    if (process.hrtime.bigint() >= deadline) break;
  }
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (cpu.user + cpu.system) / 1e6;
  if (sink < 0) console.log('unreachable');
  return count / seconds;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

interface WorkloadResult {
  readonly scenario: string;
  readonly decisionsPerRecord: number;
  readonly baselineRecPerSec: number;
  /** decode → maskRecord → encode: the API for decoded records (it checks, encodes, runs maskEncoded, decodes). */
  readonly maskedRecPerSec: number;
  /** maskEncoded: the engine, masking the Avro bytes directly (what the worker runs). */
  readonly bytePathRecPerSec: number;
  /** maskRecord alone, on decoded records (as `masker mask` JSON lines and `masker serve` call it). */
  readonly maskOnlyRecPerSec: number;
  /** maskRecord throughput (decode and encode around it) / baseline throughput (1.0 = masking is free). */
  readonly throughputRatio: number;
  /** time spent masking per record / time spent decoding + encoding per record (≤ 1 is the target). */
  readonly maskCostVsCodec: number;
  /** The same two figures for the byte path: its whole cost over and above a plain decode + encode. */
  readonly bytePathRatio: number;
  readonly bytePathCostVsCodec: number;
  /** Peak heap used while masking, and while only decoding + encoding (inputs included in both). */
  readonly heapPeakMaskedMb: number;
  readonly heapPeakPlainMb: number;
  /** Heap still held after the scenario (full GC) minus before it: what the engine keeps (plan, caches). */
  readonly heapRetainedMb: number | undefined;
  readonly rssMb: number;
}

interface Inputs {
  readonly buffers: readonly Buffer[];
  readonly values: readonly unknown[];
}

const inputsByWorkload = new Map<Workload, Inputs>();

function inputsFor(workload: Workload): Inputs {
  let inputs = inputsByWorkload.get(workload);
  if (inputs === undefined) {
    const rand = prng(42);
    const buffers: Buffer[] = [];
    const values: unknown[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const buf = type.toBuffer(customerEnvelope(i, workload, rand));
      buffers.push(buf);
      values.push(type.fromBuffer(buf));
    }
    inputs = { buffers, values };
    inputsByWorkload.set(workload, inputs);
  }
  return inputs;
}

function run(scenario: string): WorkloadResult {
  const [policyName = '', workloadName = ''] = scenario.split(':');
  const workload = workloadName as Workload;
  const plan = planFor(policyName);
  const masked: Loop = (buf) => type.toBuffer(maskRecord(plan, type.fromBuffer(buf), keys).value).length;
  const maskOnly: Loop = (_buf, value) => maskRecord(plan, value, keys).fields.length;
  const bytePath: Loop = (buf) => maskEncoded(plan, buf, keys).bytes.length;
  const { buffers, values } = inputsFor(workload);
  // Sanity: the masked output of the first record holds none of its raw PII.
  const first = values[0] as { before: { email: string; name: string; ssn: string } };
  const out = type.toBuffer(maskRecord(plan, values[0], keys).value);
  for (const raw of [first.before.email, first.before.name, first.before.ssn, '4111 1111 1111 1111']) {
    if (out.includes(Buffer.from(raw))) throw new Error(`benchmark sanity check failed: a raw value survived in ${workload}`);
  }
  if (!maskEncoded(plan, buffers[0]!, keys).bytes.equals(out)) throw new Error(`benchmark sanity check failed: the byte path differs in ${workload}`);

  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  slice(masked, buffers, values, 300);
  slice(maskOnly, buffers, values, 200);
  slice(bytePath, buffers, values, 300);
  const base: number[] = [];
  const mask: number[] = [];
  const bytes: number[] = [];
  const only: number[] = [];
  let peakPlain = 0;
  let peakMasked = 0;
  for (let r = 0; r < ROUNDS; r++) {
    base.push(slice(baseline, buffers, values, SLICE_MS));
    peakPlain = Math.max(peakPlain, process.memoryUsage().heapUsed);
    mask.push(slice(masked, buffers, values, SLICE_MS));
    peakMasked = Math.max(peakMasked, process.memoryUsage().heapUsed);
    bytes.push(slice(bytePath, buffers, values, SLICE_MS));
    peakMasked = Math.max(peakMasked, process.memoryUsage().heapUsed);
    only.push(slice(maskOnly, buffers, values, SLICE_MS / 2));
  }
  let retained: number | undefined;
  if (gc !== undefined) {
    gc();
    retained = process.memoryUsage().heapUsed - heapBefore;
  }
  const b = median(base);
  const m = median(mask);
  const y = median(bytes);
  return {
    scenario,
    decisionsPerRecord: plan.decisions.length,
    baselineRecPerSec: Math.round(b),
    maskedRecPerSec: Math.round(m),
    bytePathRecPerSec: Math.round(y),
    maskOnlyRecPerSec: Math.round(median(only)),
    throughputRatio: Number((m / b).toFixed(3)),
    maskCostVsCodec: Number(((1 / m - 1 / b) / (1 / b)).toFixed(3)),
    bytePathRatio: Number((y / b).toFixed(3)),
    bytePathCostVsCodec: Number(((1 / y - 1 / b) / (1 / b)).toFixed(3)),
    heapPeakMaskedMb: Number(mb(peakMasked)),
    heapPeakPlainMb: Number(mb(peakPlain)),
    heapRetainedMb: retained === undefined ? undefined : Number(mb(retained)),
    rssMb: Number(mb(process.memoryUsage().rss)),
  };
}

// Warm up both loops once before any scenario: the first masked records change the object shapes avsc's
// encoder sees, and the first scenario would otherwise be measured while V8 re-optimises.
{
  const { buffers, values } = inputsFor('cdc-update');
  const warmPlan = planFor('bench');
  slice((buf) => type.toBuffer(maskRecord(warmPlan, type.fromBuffer(buf), keys).value).length, buffers, values, 600);
  slice(baseline, buffers, values, 600);
}
const results = SCENARIOS.map(run);

/**
 * The floor set by keyed hashing alone: how many HMAC-SHA256 digests masking one record takes (counted by
 * wrapping the hasher for one pass over the records) and what one digest of a short value costs. Every
 * pseudonym, date-shift entity and scrubbed finding needs one; the result caches already skip repeats.
 */
interface DigestFloor {
  readonly scenario: string;
  readonly digestsPerRecord: number;
  readonly microsPerDigest: number;
}

function digestFloor(scenario: string): DigestFloor {
  const [policyName = '', workloadName = ''] = scenario.split(':');
  const plan = planFor(policyName);
  const { buffers } = inputsFor(workloadName as Workload);
  const proto = KeyedHasher.prototype;
  const original = { digestString: proto.digestString, digestBytes: proto.digestBytes };
  let count = 0;
  proto.digestString = function (this: KeyedHasher, text: string) {
    count++;
    return original.digestString.call(this, text);
  };
  proto.digestBytes = function (this: KeyedHasher, bytes: Uint8Array) {
    count++;
    return original.digestBytes.call(this, bytes);
  };
  try {
    for (const buf of buffers) maskEncoded(plan, buf, keys);
  } finally {
    proto.digestString = original.digestString;
    proto.digestBytes = original.digestBytes;
  }
  const hasher = new KeyedHasher(secret, 'bench');
  const inputs = Array.from({ length: 1024 }, (_, i) => `jane.doe${i}@corp-${i % 97}.example`);
  const cpu = process.cpuUsage();
  const n = 400_000;
  let sink = 0;
  for (let i = 0; i < n; i++) sink += hasher.digestString(inputs[i & 1023]!)[0]!;
  const used = process.cpuUsage(cpu);
  if (sink < 0) console.log('unreachable');
  return { scenario, digestsPerRecord: Number((count / buffers.length).toFixed(1)), microsPerDigest: Number(((used.user + used.system) / n).toFixed(2)) };
}
const floors = SCENARIOS.filter((s) => !s.includes('-nonet')).map(digestFloor);

/**
 * The scrubber on its own: every detector over the records' free-text notes (~170 characters with an email,
 * a card and a phone), as a scrub rule runs it, per note.
 */
function scrubPerNote(): { readonly notes: number; readonly averageChars: number; readonly microsPerNote: number } {
  const notes = inputsFor('distinct-rows').values.map((v) => String((v as { after: { notes: string } }).after.notes));
  const find = compileFinder(new Set(DETECTOR_NAMES));
  for (const n of notes) find(n);
  const cpu = process.cpuUsage();
  const rounds = 20;
  let sink = 0;
  for (let r = 0; r < rounds; r++) for (const n of notes) sink += find(n).length;
  const used = process.cpuUsage(cpu);
  if (sink < 0) console.log('unreachable');
  const averageChars = notes.reduce((a, n) => a + n.length, 0) / notes.length;
  return { notes: notes.length, averageChars: Math.round(averageChars), microsPerNote: Number(((used.user + used.system) / (rounds * notes.length)).toFixed(2)) };
}
const scrub = scrubPerNote();
console.log(`engine benchmark: ${RECORDS} distinct records, ${ROUNDS} rounds × ${SLICE_MS} ms slices, node ${process.version}, one core; rates per CPU second`);
console.log('                         decode+encode  decode+maskRecord   byte path    maskRecord  throughput ratio  mask cost vs     heap peak MB     retained');
console.log('policy:workload          rec/s          +encode rec/s       rec/s        only rec/s  record / bytes    codec rec/bytes  masked/plain     MB');
for (const r of results) {
  console.log(
    `${r.scenario.padEnd(25)}${String(r.baselineRecPerSec).padEnd(15)}${String(r.maskedRecPerSec).padEnd(20)}${String(r.bytePathRecPerSec).padEnd(13)}${String(r.maskOnlyRecPerSec).padEnd(12)}` +
      `${`${r.throughputRatio.toFixed(2)} / ${r.bytePathRatio.toFixed(2)}`.padEnd(18)}${`${r.maskCostVsCodec.toFixed(2)} / ${r.bytePathCostVsCodec.toFixed(2)}`.padEnd(17)}` +
      `${`${r.heapPeakMaskedMb}/${r.heapPeakPlainMb}`.padEnd(17)}${r.heapRetainedMb ?? 'n/a (node --expose-gc)'}`,
  );
}
for (const f of floors) {
  const floor = f.digestsPerRecord * f.microsPerDigest;
  console.log(
    `${f.scenario}: ${f.digestsPerRecord} keyed digests per record × ${f.microsPerDigest} µs = ${floor.toFixed(1)} µs of HMAC alone ` +
      `(${Math.round(1e6 / floor)} records/s at most, before any decoding, scanning or writing)`,
  );
}
console.log(`scrub, every detector: ${scrub.microsPerNote} µs per note (${scrub.notes} notes of ~${scrub.averageChars} characters)`);
for (const r of results.filter((x) => x.scenario.includes('-nonet'))) {
  const on = results.find((x) => x.scenario === r.scenario.replace('-nonet', ''));
  if (on !== undefined) {
    // Each scenario's byte path over its own codec baseline, so the two runs' machine noise cancels.
    console.log(`safety net (unmasked strings scanned) on ${on.scenario}: byte path / codec ${on.bytePathRatio.toFixed(2)} with it, ${r.bytePathRatio.toFixed(2)} without (${(on.bytePathRatio / r.bytePathRatio).toFixed(2)}x)`);
  }
}
mkdirSync(`${ROOT}bench/results`, { recursive: true });
const file = `${ROOT}bench/results/engine-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ records: RECORDS, rounds: ROUNDS, sliceMs: SLICE_MS, node: process.version, results, digestFloors: floors, scrub }, null, 2)}\n`);
console.log(`results written to ${file}`);
