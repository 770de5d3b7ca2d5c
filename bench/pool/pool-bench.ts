/**
 * Masking-pool micro-benchmark (issue 11 item 3): chunks of 500 reference CDC records (the engine
 * benchmark's Debezium customer updates) masked with maskEncoded on the main thread, against a pool of
 * worker_threads that each compile their own plan from the schema text and policy and mask chunks sent as
 * one transferred ArrayBuffer (bodies back to back + end offsets), returning the masked bodies the same way.
 * The point of a pool is to free the main thread for kafkajs, so the figure that matters is main-thread
 * CPU per record; throughput and the round trip per chunk say what it costs. Modes alternate, the median
 * round counts. On a 2-core machine shared with the broker, threads compete with kafkajs and the broker:
 * only the pipeline benchmark can say whether the pipeline gets faster.
 *
 *   npm run bench:pool
 *   BENCH_POLICY=default BENCH_SLICE_MS=3000 BENCH_ROUNDS=5 npm run bench:pool
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import avro from 'avsc';
import { parse as parseYaml } from 'yaml';
import { compilePlan, maskEncoded, parsePolicy, type KeyRing } from '../../src/masking/index.js';
import { customerEnvelope, prng } from '../engine/customer-records.js';
import type { ChunkRequest, ChunkResponse, PlanInputs } from './pool-protocol.js';

function repoRoot(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return fileURLToPath(dir);
    if (dir.pathname === '/') throw new Error('package.json not found above the benchmark');
  }
}
const ROOT = repoRoot();
const CHUNK = Number(process.env['BENCH_CHUNK'] ?? 500);
const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 10_000);
const SLICE_MS = Number(process.env['BENCH_SLICE_MS'] ?? 2000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const POLICY = process.env['BENCH_POLICY'] ?? 'bench';
const POLICY_FILES: Readonly<Record<string, string>> = { bench: 'bench/engine/bench-policy.yaml', default: 'policies/default.yaml' };
const RESERVE = 5;

const schemaText = readFileSync(`${ROOT}examples/customers-cdc.avsc`, 'utf8');
const schemaJson: unknown = JSON.parse(schemaText);
const type = avro.Type.forSchema(schemaJson as avro.Schema);
const policyFile = POLICY_FILES[POLICY];
if (policyFile === undefined) throw new Error(`BENCH_POLICY: bench | default, got ${POLICY}`);
const policyDoc: unknown = parseYaml(readFileSync(`${ROOT}${policyFile}`, 'utf8'));
const secret = new TextEncoder().encode('bench-secret-0123456789abcdef');
const inputs: PlanInputs = { schemaText, policyDoc, envelope: 'debezium', keyId: 'bench', secret };
const plan = compilePlan(type, parsePolicy(policyDoc, policyFile), { envelope: 'debezium', schemaJson });
const keys: KeyRing = { active: { id: 'bench', secret }, keys: new Map([['bench', { id: 'bench', secret }]]) };

// As a fetch hands them over: every body a slice of one big buffer (kafkajs decodes a fetch response).
const rand = prng(7);
const bodies0 = Array.from({ length: RECORDS }, (_, i) => type.toBuffer(customerEnvelope(i, 'cdc-update', rand)));
const fetched = Buffer.concat(bodies0);
const bodies: Buffer[] = [];
for (let at = 0, i = 0; i < bodies0.length; at += bodies0[i]!.length, i++) bodies.push(fetched.subarray(at, at + bodies0[i]!.length));
const chunks: Buffer[][] = [];
for (let i = 0; i < bodies.length; i += CHUNK) chunks.push(bodies.slice(i, i + CHUNK));

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU seconds of this process's main thread (its task id is the pid), and of the whole process. */
function cpu(): { main: number; all: number } {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const usage = process.cpuUsage();
  return { main: (Number(f[11]) + Number(f[12])) / CLK_TCK, all: (usage.user + usage.system) / 1e6 };
}

interface Slice { readonly recPerSec: number; readonly mainUsPerRecord: number; readonly allUsPerRecord: number }

let sink = 0;

/** Masks on the main thread, chunk after chunk, for `ms`. */
function mainSlice(ms: number): Slice {
  const c0 = cpu();
  const t0 = performance.now();
  let records = 0;
  for (let k = 0; performance.now() - t0 < ms; k++) {
    const chunk = chunks[k % chunks.length]!;
    for (const body of chunk) {
      const masked = maskEncoded(plan, body, keys, RESERVE);
      sink += masked.bytes.length + masked.fields.length;
    }
    records += chunk.length;
  }
  return result(records, t0, c0);
}

function result(records: number, t0: number, c0: { main: number; all: number }): Slice {
  const seconds = (performance.now() - t0) / 1000;
  const c1 = cpu();
  return { recPerSec: records / seconds, mainUsPerRecord: ((c1.main - c0.main) / records) * 1e6, allUsPerRecord: ((c1.all - c0.all) / records) * 1e6 };
}

/** The chunk's bodies copied back to back into one ArrayBuffer (what the main thread pays to send it). */
function pack(id: number, chunk: readonly Buffer[]): ChunkRequest {
  let total = 0;
  for (const b of chunk) total += b.length;
  const data = new ArrayBuffer(total);
  const view = new Uint8Array(data);
  const ends = new Uint32Array(chunk.length);
  let at = 0;
  for (let i = 0; i < chunk.length; i++) {
    view.set(chunk[i]!, at);
    at += chunk[i]!.length;
    ends[i] = at;
  }
  return { id, data, ends };
}

/** What the main thread does with a result: a Buffer view per masked record (no copy). */
function unpack(res: ChunkResponse): number {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < res.ends.length; i++) {
    const end = res.ends[i]!;
    if (res.status[i] === 0) bytes += Buffer.from(res.data, start, end - start).length + res.applied[i]!;
    start = end;
  }
  return bytes;
}

class Pool {
  private readonly threads: Worker[];
  private readonly pending = new Map<number, (res: ChunkResponse) => void>();
  private next = 0;
  constructor(size: number) {
    this.threads = Array.from({ length: size }, () => {
      const w = new Worker(new URL('./pool-thread.js', import.meta.url), { workerData: inputs });
      w.on('message', (res: ChunkResponse) => { this.pending.get(res.id)?.(res); this.pending.delete(res.id); });
      w.on('error', (err) => { throw err; });
      return w;
    });
  }
  get size(): number { return this.threads.length; }
  mask(chunk: readonly Buffer[]): Promise<ChunkResponse> {
    const id = this.next++;
    const req = pack(id, chunk);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.threads[id % this.threads.length]!.postMessage(req, [req.data, req.ends.buffer as ArrayBuffer]);
    });
  }
  async close(): Promise<void> { await Promise.all(this.threads.map((t) => t.terminate())); }
}

/** `inFlight` chunks outstanding at any time, for `ms`. */
async function poolSlice(pool: Pool, inFlight: number, ms: number): Promise<Slice & { roundTripUs: number; threadUs: number }> {
  const c0 = cpu();
  const t0 = performance.now();
  let records = 0;
  let k = 0;
  let rtt = 0;
  let threadUs = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() - t0 < ms) {
      const chunk = chunks[k++ % chunks.length]!;
      const sent = performance.now();
      const res = await pool.mask(chunk);
      rtt += (performance.now() - sent) * 1000;
      threadUs += res.threadUs;
      done += 1;
      sink += unpack(res);
      records += chunk.length;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { ...result(records, t0, c0), roundTripUs: rtt / done, threadUs: threadUs / done };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const pools = [new Pool(1), new Pool(2)];
// Warm-up: JIT on the main thread and in every thread (their plans compile on start).
mainSlice(500);
for (const pool of pools) await poolSlice(pool, pool.size * 2, 500);

type Mode = { readonly name: string; readonly run: () => Promise<Slice & { roundTripUs?: number; threadUs?: number }> };
const modes: Mode[] = [
  { name: 'main thread', run: async () => mainSlice(SLICE_MS) },
  { name: 'pool of 1, 1 chunk in flight', run: () => poolSlice(pools[0]!, 1, SLICE_MS) },
  { name: 'pool of 1, 2 in flight', run: () => poolSlice(pools[0]!, 2, SLICE_MS) },
  { name: 'pool of 2, 4 in flight', run: () => poolSlice(pools[1]!, 4, SLICE_MS) },
];
const samples = new Map<string, Array<Slice & { roundTripUs?: number; threadUs?: number }>>();
for (let r = 0; r < ROUNDS; r++) for (const m of modes) samples.set(m.name, [...(samples.get(m.name) ?? []), await m.run()]);
await Promise.all(pools.map((p) => p.close()));

process.stdout.write(`pool micro-benchmark: ${RECORDS} CDC updates (${Math.round(fetched.length / RECORDS)} B), policy ${POLICY}, chunks of ${CHUNK}, ${ROUNDS} rounds of ${SLICE_MS} ms, medians\n`);
const base = median(samples.get('main thread')!.map((s) => s.recPerSec));
const baseMain = median(samples.get('main thread')!.map((s) => s.mainUsPerRecord));
const summary: Record<string, unknown> = {};
for (const m of modes) {
  const s = samples.get(m.name)!;
  const rate = median(s.map((x) => x.recPerSec));
  const mainUs = median(s.map((x) => x.mainUsPerRecord));
  const allUs = median(s.map((x) => x.allUsPerRecord));
  const rtt = s[0]?.roundTripUs === undefined ? undefined : median(s.map((x) => x.roundTripUs ?? 0));
  const thr = s[0]?.threadUs === undefined ? undefined : median(s.map((x) => x.threadUs ?? 0));
  summary[m.name] = { rate, mainUs, allUs, rtt, threadUs: thr };
  process.stdout.write(`${m.name.padEnd(30)} ${String(Math.round(rate)).padStart(7)} records/s (${(rate / base).toFixed(2)}x)  main thread ${mainUs.toFixed(1).padStart(5)} µs CPU/record (${(mainUs / baseMain).toFixed(2)}x)  process ${allUs.toFixed(1).padStart(5)} µs`
    + (rtt === undefined || thr === undefined ? '' : `  round trip ${(rtt / 1000).toFixed(2)} ms/chunk, of which the thread ${(thr / 1000).toFixed(2)} ms: overhead ${((rtt - thr) / 1000).toFixed(2)} ms (${((rtt - thr) / CHUNK).toFixed(1)} µs/record)`) + '\n');
}
if (sink < 0) process.stdout.write('unreachable\n');
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/pool-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, `${JSON.stringify({ date: new Date().toISOString(), policy: POLICY, chunk: CHUNK, records: RECORDS, summary }, null, 2)}\n`);
