/**
 * Pipeline benchmark, on the broker and registry of the local stack (npm run stack:up):
 *  (a) baseline: a plain kafkajs exactly-once copy of the topic with the same batching (copy-worker.ts);
 *  (b) masker run (the bin, as a user runs it) on the reference CDC record of the engine benchmark;
 *  (b') the same with the safety net off (untagged.detect: []), to price scanning unmasked strings;
 *  (b'') the same with per-record audit events (MASKER_AUDIT=record, v1) instead of chunk events (v2);
 *  (b''') opt-in (step `threads`): the same with a masking pool, MASKER_MASK_THREADS=1 (BENCH_MASK_THREADS=1,2
 *       for several): chunks masked in worker threads while the main thread fetches, produces and commits.
 *       Measured on 2026-12-02 and not kept (BENCHMARKS.md): the pool lives in bench/pool/mask-pool.patch;
 *       `git apply` it and `npm run -s build` first, else the step says it is skipped;
 *  (c) masker with 2 workers in one group vs 1 (2 source partitions);
 *  (d) end-to-end latency p50/p99 at about half of (b)'s throughput;
 *  (e) the masker worker's peak RSS;
 *  (f) masker replay (no --rate) of the whole source topic into a third target, vs (a) and (b).
 * Throughput is quoted as a ratio against (a) measured in the same run (the machine is shared).
 * Everything runs compiled, as masker runs: the bench and the copy worker by tsc (bench/tsconfig.json →
 * .bench-build/), masker from dist/ (npm run build); a TS loader measured up to 40% slower.
 *
 *   npm run bench:pipeline                         # 20k records, ~2 min
 *   BENCH_STEPS=copy,run,replay npm run bench:pipeline   # only some steps: copy run record nonet threads two replay latency
 *   BENCH_STEPS=copy,run,threads BENCH_MASK_THREADS=1,2 npm run bench:pipeline   # masking pool of 1 and of 2 threads vs (b)
 *   BENCH_COMPARE_ROOT=/tmp/other-checkout npm run bench:pipeline   # (a) and (b) also from another built checkout
 *       (dist/ and .bench-build/ built, e.g. before/after a change or a node_modules patch), alternating
 *   BENCH_RECORDS=100000 BENCH_LATENCY_SECONDS=20 npm run bench:pipeline
 *   BENCH_MASKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench:pipeline   # profile every worker process (copy, run, replay: pids are printed)
 *   BENCH_LATENCY_BATCH=100 npm run bench:pipeline     # MASKER_BATCH_RECORDS of the latency run (default 500)
 *   MASKER_BATCH_RECORDS=1000 npm run bench:pipeline   # MASKER_* settings apply to masker and the copy alike
 *   BENCH_LATENCY_WARMUP_SECONDS=0 npm run bench:pipeline   # latency from the fresh worker's first record (default 3 s warm-up)
 *   BENCH_MASKER_LOG_LEVEL=debug npm run bench:pipeline     # per-chunk handle/commit times on stderr
 *
 * Each throughput line also gives the CPU the workers and the broker used while measuring (from /proc):
 * cores busy on average and worker CPU time per record — it says which side is the limit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { parseSchema, type ResolvedSchema } from '../../src/registry/schema-cache.js';
import { writeFrame } from '../../src/registry/wire-format.js';
import { customerEnvelope, prng } from '../engine/customer-records.js';

/** The repository root: this file runs compiled, from .bench-build/bench/pipeline/ (see bench/tsconfig.json). */
function repoRoot(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return fileURLToPath(dir);
    if (dir.pathname === '/') throw new Error('package.json not found above the benchmark');
  }
}
const ROOT = repoRoot();
/** Another checkout (built) whose copy and masker run alternate with ours: a before/after in one run. */
const COMPARE_ROOT = process.env['BENCH_COMPARE_ROOT'] === undefined ? undefined : `${process.env['BENCH_COMPARE_ROOT'].replace(/\/$/, '')}/`;
const STEPS = new Set((process.env['BENCH_STEPS'] ?? 'copy,run,record,nonet,two,replay,latency').split(','));
/** Pool sizes of step (b'''), each a masker run of its own. */
const MASK_THREADS = (process.env['BENCH_MASK_THREADS'] ?? '1').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 20_000);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 8);
/** Seconds at the latency run's rate before measuring: a fresh worker's JIT warm-up shows as a backlog. */
const WARMUP_SECONDS = Number(process.env['BENCH_LATENCY_WARMUP_SECONDS'] ?? 3);
const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const REGISTRY = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:18081';
const run = randomUUID().slice(0, 8);

const kafka = new Kafka({ clientId: 'bench-pipeline', brokers: BROKERS, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

const schemaText = JSON.stringify(JSON.parse(readFileSync(`${ROOT}examples/customers-cdc.avsc`, 'utf8')));
const config = writeConfigDir();

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `policies/`: the shipped default policy; `policies-nonet/`: the same with the safety net off (`untagged.detect: []`). */
function writeConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'masker-bench-'));
  mkdirSync(join(dir, 'policies'));
  mkdirSync(join(dir, 'policies-nonet'));
  const policy = readFileSync(`${ROOT}policies/default.yaml`, 'utf8');
  writeFileSync(join(dir, 'policies', 'default.yaml'), policy);
  writeFileSync(join(dir, 'policies-nonet', 'default.yaml'), `${policy}\nuntagged: { detect: [] }\n`);
  return dir;
}

async function registerSource(topic: string): Promise<ResolvedSchema> {
  const id = await new RegistryClient({ url: REGISTRY }).register(`${topic}-value`, schemaText);
  return parseSchema(id, schemaText);
}

function encoded(schema: ResolvedSchema, count: number, offset = 0): Buffer[] {
  const rand = prng(7);
  return Array.from({ length: count }, (_, i) => writeFrame(schema.id, schema.type.toBuffer(customerEnvelope(offset + i, 'cdc-update', rand))));
}

async function produceAll(producer: Producer, topic: string, values: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < values.length; i += 1000) {
    await producer.send({ topic, acks: -1, messages: values.slice(i, i + 1000).map((value, j) => ({ key: String(i + j), value })) });
  }
}

async function committed(groupId: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const lastCpu = new Map<number, number>();

/**
 * CPU seconds (user + system) a process has used so far; once it is gone, the last reading (masker replay
 * exits right after its last commit: up to one poll interval of its CPU is then missed).
 */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    lastCpu.set(pid, seconds);
    return seconds;
  } catch {
    return lastCpu.get(pid) ?? 0;
  }
}

/** The local stack's broker, to show how the two cores were shared. */
function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(`${ROOT}.stack/kafka.pid`, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

interface Measured {
  readonly rate: number;
  /** Cores used on average by the workers (together) and by the broker while measuring. */
  readonly workerCores: number;
  readonly brokerCores: number;
  /** Worker CPU per record, microseconds. */
  readonly workerUsPerRecord: number;
}

function describe(m: Measured): string {
  return `(workers ${m.workerCores.toFixed(2)} cores, ${Math.round(m.workerUsPerRecord)} µs CPU/record; broker ${m.brokerCores.toFixed(2)} cores)`;
}

/** Records/s from the first commit to the last: worker start-up and group join are not counted. */
async function measure(groupId: string, topic: string, total: number, workers: readonly ChildProcess[] = [], deadlineMs = 600_000): Promise<Measured> {
  const end = Date.now() + deadlineMs;
  const cpu = (): { workers: number; broker: number } => ({
    workers: workers.reduce((sum, w) => sum + cpuSeconds(w.pid), 0),
    broker: cpuSeconds(brokerPid()),
  });
  let first: { at: number; count: number; cpu: { workers: number; broker: number } } | undefined;
  // Reads the workers' CPU between polls too: a process that exits right after its last commit (masker
  // replay) is then counted up to its last 20 ms, even when a poll of the group's offsets is slow.
  const sampler = setInterval(() => { for (const w of workers) cpuSeconds(w.pid); }, 20);
  try {
    return await poll();
  } finally {
    clearInterval(sampler);
  }
  async function poll(): Promise<Measured> {
  for (;;) {
    const count = await committed(groupId, topic);
    const now = performance.now();
    if (first === undefined && count > 0) first = { at: now, count, cpu: cpu() };
    if (count >= total && first !== undefined) {
      const seconds = (now - first.at) / 1000;
      const used = cpu();
      const records = count - first.count;
      return {
        rate: records / seconds,
        workerCores: (used.workers - first.cpu.workers) / seconds,
        brokerCores: (used.broker - first.cpu.broker) / seconds,
        workerUsPerRecord: ((used.workers - first.cpu.workers) / records) * 1e6,
      };
    }
    if (Date.now() > end) throw new Error(`${topic}: ${count}/${total} committed before the deadline`);
    await new Promise((r) => setTimeout(r, 50));
  }
  }
}

/** MASKER_* settings in the bench's environment (batch size, concurrency) reach masker and the copy alike. */
function maskerSettingsFromEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('MASKER_') && e[1] !== undefined));
}

/** Node flags for every worker process (the copy, masker run, masker replay), e.g. --cpu-prof. */
const workerNodeArgs = (process.env['BENCH_MASKER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

function maskerEnv(extraEnv: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    KAFKA_BROKERS: BROKERS.join(','),
    SCHEMA_REGISTRY_URL: REGISTRY,
    MASKER_SECRET: 'bench-secret-0123456789abcdef',
    MASKER_AUDIT_TOPIC: `bench.audit.${run}`,
    MASKER_QUARANTINE_TOPIC: `bench.quarantine.${run}`,
    METRICS_PORT: '0',
    LOG_LEVEL: process.env['BENCH_MASKER_LOG_LEVEL'] ?? 'warn',
    ...maskerSettingsFromEnv(),
    ...extraEnv,
  };
}

function startMasker(routeDir: string, groupId: string, extraEnv: Record<string, string> = {}, policies = 'policies', root = ROOT): ChildProcess {
  return spawn(process.execPath, [...workerNodeArgs, `${root}bin/masker.js`, 'run', '--routes', routeDir, '--policies', join(config, policies)], {
    env: maskerEnv({ MASKER_GROUP_ID: groupId, ...extraEnv }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** `masker replay` of offsets [0, end) of every partition, as a user runs it (no --rate); its stderr is read for its group id. */
function startReplay(routeDir: string, end: number): ChildProcess {
  return spawn(process.execPath, [...workerNodeArgs, `${ROOT}bin/masker.js`, 'replay', '--route', 'bench', '--from', '0', '--to', String(end), '--routes', routeDir, '--policies', join(config, 'policies')], {
    env: maskerEnv({}),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** The consumer group a replay announces on stderr (`… group <id>; …`); other stderr lines are passed on. */
function replayGroup(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let found = false;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const group = /group (masker-replay-[^\s;)]+)/.exec(line)?.[1];
        if (!found && group !== undefined) {
          found = true;
          resolve(group);
        } else if (!line.startsWith('replay: ')) process.stderr.write(`${line}\n`);
      }
    });
    child.once('exit', (code) => { if (!found) reject(new Error(`masker replay exited (${code}) before naming its group`)); });
  });
}

/** The baseline runs compiled too (.bench-build/bench/pipeline/copy-worker.js, next to this file). */
function startCopy(source: string, target: string, groupId: string, root = ROOT): ChildProcess {
  const worker = root === ROOT ? fileURLToPath(new URL('./copy-worker.js', import.meta.url)) : `${root}.bench-build/bench/pipeline/copy-worker.js`;
  return spawn(process.execPath, [...workerNodeArgs, worker, source, target, groupId], {
    env: { ...process.env, KAFKA_BROKERS: BROKERS.join(',') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function routeDir(source: string, target: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'masker-bench-routes-'));
  writeFileSync(join(dir, 'route.yaml'), `apiVersion: masker/v1\nkind: Route\nname: bench\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: default\nenvelope: debezium\nkey: keep\n`);
  return dir;
}

function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => { if (c.exitCode !== null) r(null); else { c.once('exit', r); c.kill('SIGTERM'); } })));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();

// Shared input: one source topic with 2 partitions, read by every variant under its own group.
const source = `bench.src.${run}`;
await admin.createTopics({ waitForLeaders: true, topics: [source, `bench.copy.${run}`, `bench.copy-other.${run}`].map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })) });
const schema = await registerSource(source);
const values = encoded(schema, RECORDS);
await produceAll(producer, source, values);
log(`bench: ${RECORDS} Debezium customer envelopes (${Math.round(values.reduce((s, v) => s + v.length, 0) / RECORDS)} B each) in ${source} (2 partitions); steps ${[...STEPS].join(',')}`);

const results: Record<string, unknown> = { date: new Date().toISOString(), records: RECORDS, settings: maskerSettingsFromEnv() };
const cpu: Record<string, Measured> = {};
const pids = (children: readonly ChildProcess[]): string => `pid ${children.map((c) => c.pid).join(',')}`;
/** "ratio to (a) …" when the copy ran in this run. */
const toCopy = (rate: number): string => (cpu['baseline'] === undefined ? '' : `ratio to (a) ${(rate / cpu['baseline'].rate).toFixed(2)}  `);

// (a) baseline copy
if (STEPS.has('copy')) {
  const copyGroup = `bench-copy-${run}`;
  const children = [startCopy(source, `bench.copy.${run}`, copyGroup)];
  cpu['baseline'] = await measure(copyGroup, source, RECORDS, children);
  await stop(children);
  results['baseline'] = cpu['baseline'].rate;
  log(`(a) plain kafkajs EOS copy:     ${Math.round(cpu['baseline'].rate)} records/s  ${describe(cpu['baseline'])}  ${pids(children)}`);
  if (COMPARE_ROOT !== undefined) {
    const otherGroup = `bench-copy-other-${run}`;
    const others = [startCopy(source, `bench.copy-other.${run}`, otherGroup, COMPARE_ROOT)];
    cpu['baselineCompareRoot'] = await measure(otherGroup, source, RECORDS, others);
    await stop(others);
    const m = cpu['baselineCompareRoot'];
    log(`(a*) the copy, ${COMPARE_ROOT}: ${Math.round(m.rate)} records/s  ${(m.rate / cpu['baseline'].rate).toFixed(2)}x of (a), CPU/record ${(m.workerUsPerRecord / cpu['baseline'].workerUsPerRecord).toFixed(2)}x  ${describe(m)}  ${pids(others)}`);
  }
}

// (b) masker, one worker
if (STEPS.has('run') || STEPS.has('latency') || STEPS.has('two')) {
  const oneGroup = `bench-masker1-${run}`;
  const children = [startMasker(routeDir(source, `bench.masked1.${run}`), oneGroup)];
  const oneRun = await measure(oneGroup, source, RECORDS, children);
  const rss = peakRssMb(children[0]!);
  await stop(children);
  cpu['oneWorker'] = oneRun;
  Object.assign(results, { oneWorker: oneRun.rate, peakRssMb: rss, ...(cpu['baseline'] === undefined ? {} : { ratio: oneRun.rate / cpu['baseline'].rate }) });
  log(`(b) masker, 1 worker:           ${Math.round(oneRun.rate)} records/s  ${toCopy(oneRun.rate)}peak RSS ${rss} MB  ${describe(oneRun)}  ${pids(children)}`);
  if (COMPARE_ROOT !== undefined) {
    const otherGroup = `bench-masker1-other-${run}`;
    const others = [startMasker(routeDir(source, `bench.masked1-other.${run}`), otherGroup, {}, 'policies', COMPARE_ROOT)];
    const m = await measure(otherGroup, source, RECORDS, others);
    await stop(others);
    cpu['oneWorkerCompareRoot'] = m;
    log(`(b*) masker, ${COMPARE_ROOT}: ${Math.round(m.rate)} records/s  ${(m.rate / oneRun.rate).toFixed(2)}x of (b), CPU/record ${(m.workerUsPerRecord / oneRun.workerUsPerRecord).toFixed(2)}x  ${toCopy(m.rate)}${describe(m)}  ${pids(others)}`);
  }
}
const one = cpu['oneWorker']?.rate;

// (b') the same with the safety net off: what scanning unmasked strings costs in the pipeline.
if (STEPS.has('nonet')) {
  const netOffGroup = `bench-masker-nonet-${run}`;
  const children = [startMasker(routeDir(source, `bench.masked-nonet.${run}`), netOffGroup, {}, 'policies-nonet')];
  const netOffRun = await measure(netOffGroup, source, RECORDS, children);
  await stop(children);
  cpu['safetyNetOff'] = netOffRun;
  results['safetyNetOff'] = netOffRun.rate;
  log(`(b') masker, safety net off:    ${Math.round(netOffRun.rate)} records/s  ${toCopy(netOffRun.rate)}${one === undefined ? '' : `(net on/off ${(one / netOffRun.rate).toFixed(2)})  `}${describe(netOffRun)}`);
}

// (b'') the same with per-record audit events (MASKER_AUDIT=record, audit v1): what audit v2 saves.
if (STEPS.has('record')) {
  const recordGroup = `bench-masker-record-${run}`;
  const children = [startMasker(routeDir(source, `bench.masked-record.${run}`), recordGroup, { MASKER_AUDIT: 'record' })];
  const recordRun = await measure(recordGroup, source, RECORDS, children);
  const rss = peakRssMb(children[0]!);
  await stop(children);
  cpu['recordAudit'] = recordRun;
  results['recordAudit'] = recordRun.rate;
  log(`(b'') masker, MASKER_AUDIT=record: ${Math.round(recordRun.rate)} records/s  ${toCopy(recordRun.rate)}${one === undefined ? '' : `(chunk/record ${(one / recordRun.rate).toFixed(2)})  `}peak RSS ${rss} MB  ${describe(recordRun)}`);
}

// (b''') the same with a masking pool: chunks masked in worker threads (MASKER_MASK_THREADS).
// The setting is read by dist/config/env.js only when the pool is built in (a stale dist/ may hold its files).
if (STEPS.has('threads') && !readFileSync(`${ROOT}dist/config/env.js`, 'utf8').includes('MASKER_MASK_THREADS')) {
  log(`(b''') skipped: this build has no masking pool (git apply bench/pool/mask-pool.patch && npm run -s build)`);
} else if (STEPS.has('threads')) {
  for (const threads of MASK_THREADS) {
    const poolGroup = `bench-masker-threads${threads}-${run}`;
    const children = [startMasker(routeDir(source, `bench.masked-threads${threads}.${run}`), poolGroup, { MASKER_MASK_THREADS: String(threads) })];
    const poolRun = await measure(poolGroup, source, RECORDS, children);
    const rss = peakRssMb(children[0]!);
    await stop(children);
    cpu[`maskThreads${threads}`] = poolRun;
    results[`maskThreads${threads}`] = poolRun.rate;
    const vsOne = cpu['oneWorker'] === undefined ? '' : `(${(poolRun.rate / cpu['oneWorker'].rate).toFixed(2)}x of (b), CPU/record ${(poolRun.workerUsPerRecord / cpu['oneWorker'].workerUsPerRecord).toFixed(2)}x)  `;
    log(`(b''') masker, MASKER_MASK_THREADS=${threads}: ${Math.round(poolRun.rate)} records/s  ${toCopy(poolRun.rate)}${vsOne}peak RSS ${rss} MB  ${describe(poolRun)}  ${pids(children)}`);
  }
}

// (c) masker, two workers in one group
if (STEPS.has('two') && one !== undefined) {
  const twoGroup = `bench-masker2-${run}`;
  const twoRoutes = routeDir(source, `bench.masked2.${run}`);
  const children = [startMasker(twoRoutes, twoGroup), startMasker(twoRoutes, twoGroup)];
  const twoRun = await measure(twoGroup, source, RECORDS, children);
  await stop(children);
  cpu['twoWorkers'] = twoRun;
  Object.assign(results, { twoWorkers: twoRun.rate, scaling: twoRun.rate / one });
  log(`(c) masker, 2 workers:          ${Math.round(twoRun.rate)} records/s  ${(twoRun.rate / one).toFixed(2)}x of 1 worker  ${describe(twoRun)}`);
}

// (f) masker replay of the whole topic, without --rate: as fast as it goes. Start-up (range resolution,
// group set-up, policy load) is not counted in the rate, as for (a) and (b); the wall time says what it adds.
if (STEPS.has('replay')) {
  const started = performance.now();
  const children = [startReplay(routeDir(source, `bench.replayed.${run}`), RECORDS)];
  const group = await replayGroup(children[0]!);
  const replayRun = await measure(group, source, RECORDS, children);
  const wall = (performance.now() - started) / 1000;
  await new Promise((r) => { if (children[0]!.exitCode !== null) r(null); else children[0]!.once('exit', r); });
  cpu['replay'] = replayRun;
  Object.assign(results, { replay: replayRun.rate, replaySecondsWithStartup: wall });
  log(`(f) masker replay (no --rate):  ${Math.round(replayRun.rate)} records/s  ${toCopy(replayRun.rate)}${one === undefined ? '' : `${(replayRun.rate / one).toFixed(2)}x of (b)  `}`
    + `${(wall).toFixed(1)} s with start-up  ${describe(replayRun)}  ${pids(children)}`);
}

// (d) latency at ~half of (b)'s max: source produce time → visible (committed) on the target.
if (STEPS.has('latency') && one !== undefined) {
  const latSource = `bench.lat.src.${run}`;
  const latTarget = `bench.lat.dst.${run}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: latSource, numPartitions: 1, replicationFactor: 1 }] });
  const latSchema = await registerSource(latSource);
  const latGroup = `bench-lat-${run}`;
  const children = [startMasker(routeDir(latSource, latTarget), latGroup, { MASKER_BATCH_RECORDS: process.env['BENCH_LATENCY_BATCH'] ?? '500' })];
  // Warm up: one record through, so schema fetch, plan compile and group join are not in the figures.
  await produceAll(producer, latSource, encoded(latSchema, 1));
  await measure(latGroup, latSource, 1);
  const rate = Math.max(100, Math.floor(one / 2));
  const warm = Math.floor(rate * WARMUP_SECONDS);
  const total = warm + Math.floor(rate * LATENCY_SECONDS);
  const sentAt: number[] = [];
  const received: number[] = [];
  const reader = kafka.consumer({ groupId: `bench-lat-reader-${run}`, readUncommitted: false, maxWaitTimeInMs: 20 });
  await reader.connect();
  await reader.subscribe({ topic: latTarget, fromBeginning: true });
  let skipped = 0;
  await reader.run({ eachMessage: async () => { if (skipped < 1) skipped += 1; else received.push(performance.now()); } });
  const latValues = encoded(latSchema, total, 1);
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const startedAt = performance.now();
  for (let i = 0; i < total; i += perTick) {
    const due = startedAt + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const slice = latValues.slice(i, i + perTick);
    const now = performance.now();
    for (let j = 0; j < slice.length; j++) sentAt.push(now);
    await producer.send({ topic: latSource, acks: 1, messages: slice.map((value) => ({ value })) });
  }
  const until = Date.now() + 60_000;
  while (received.length < total && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await reader.disconnect();
  await stop(children);
  // One source partition, one target partition: the i-th record received is the i-th sent.
  const all = received.map((t, i) => t - (sentAt[i] ?? t));
  const latencies = all.slice(warm).sort((a, b) => a - b);
  const withWarmup = [...all].sort((a, b) => a - b);
  results['latency'] = { rate, warmupSeconds: WARMUP_SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), p99WithWarmup: percentile(withWarmup, 99) };
  log(`(d) latency at ${rate} records/s:  p50 ${percentile(latencies, 50).toFixed(0)} ms  p99 ${percentile(latencies, 99).toFixed(0)} ms  `
    + `(${received.length - warm}/${total - warm} records after ${WARMUP_SECONDS} s of warm-up at that rate; `
    + `with the warm-up: p50 ${percentile(withWarmup, 50).toFixed(0)} ms, p99 ${percentile(withWarmup, 99).toFixed(0)} ms)`);
}

results['cpu'] = cpu;
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/pipeline-${run}.json`, `${JSON.stringify(results, null, 2)}\n`);
await producer.disconnect();
await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.includes(run)) }).catch(() => undefined);
await admin.disconnect();
process.exit(0);
