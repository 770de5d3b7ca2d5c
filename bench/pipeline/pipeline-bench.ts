/**
 * Pipeline benchmark, on the broker and registry of the local stack (npm run stack:up):
 *  (a) baseline: a plain kafkajs exactly-once copy of the topic with the same batching (copy-worker.ts);
 *  (b) masker run (the bin, as a user runs it) on the reference CDC record of the engine benchmark;
 *  (b') the same with the safety net off (untagged.detect: []), to price scanning unmasked strings;
 *  (c) masker with 2 workers in one group vs 1 (2 source partitions);
 *  (d) end-to-end latency p50/p99 at about half of (b)'s throughput;
 *  (e) the masker worker's peak RSS.
 * Throughput is quoted as a ratio against (a) measured in the same run (the machine is shared).
 *
 *   npm run bench:pipeline                         # 20k records, ~2 min
 *   BENCH_RECORDS=100000 BENCH_LATENCY_SECONDS=20 npm run bench:pipeline
 *   BENCH_MASKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench:pipeline   # profile the workers
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
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { parseSchema, type ResolvedSchema } from '../../src/registry/schema-cache.js';
import { writeFrame } from '../../src/registry/wire-format.js';
import { customerEnvelope, prng } from '../engine/customer-records.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
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

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
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

/** MASKER_* settings in the bench's environment (batch size, concurrency) reach masker and the copy alike. */
function maskerSettingsFromEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('MASKER_') && e[1] !== undefined));
}

function startMasker(routeDir: string, groupId: string, extraEnv: Record<string, string> = {}, policies = 'policies'): ChildProcess {
  const nodeArgs = (process.env['BENCH_MASKER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  return spawn(process.execPath, [...nodeArgs, `${ROOT}bin/masker.js`, 'run', '--routes', routeDir, '--policies', join(config, policies)], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: BROKERS.join(','),
      SCHEMA_REGISTRY_URL: REGISTRY,
      MASKER_SECRET: 'bench-secret-0123456789abcdef',
      MASKER_GROUP_ID: groupId,
      MASKER_AUDIT_TOPIC: `bench.audit.${run}`,
      MASKER_QUARANTINE_TOPIC: `bench.quarantine.${run}`,
      METRICS_PORT: '0',
      LOG_LEVEL: process.env['BENCH_MASKER_LOG_LEVEL'] ?? 'warn',
      ...maskerSettingsFromEnv(),
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function startCopy(source: string, target: string, groupId: string): ChildProcess {
  return spawn(process.execPath, [`${ROOT}node_modules/vite-node/vite-node.mjs`, `${ROOT}bench/pipeline/copy-worker.ts`, '--', source, target, groupId], {
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
await admin.createTopics({ waitForLeaders: true, topics: [source, `bench.copy.${run}`].map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })) });
const schema = await registerSource(source);
const values = encoded(schema, RECORDS);
await produceAll(producer, source, values);
log(`bench: ${RECORDS} Debezium customer envelopes (${Math.round(values.reduce((s, v) => s + v.length, 0) / RECORDS)} B each) in ${source} (2 partitions)`);

// (a) baseline copy
const copyGroup = `bench-copy-${run}`;
let children = [startCopy(source, `bench.copy.${run}`, copyGroup)];
const baselineRun = await measure(copyGroup, source, RECORDS, children);
const baseline = baselineRun.rate;
await stop(children);
log(`(a) plain kafkajs EOS copy:     ${Math.round(baseline)} records/s  ${describe(baselineRun)}`);

// (b) masker, one worker
const oneGroup = `bench-masker1-${run}`;
children = [startMasker(routeDir(source, `bench.masked1.${run}`), oneGroup)];
const oneRun = await measure(oneGroup, source, RECORDS, children);
const one = oneRun.rate;
const rss = peakRssMb(children[0]!);
await stop(children);
log(`(b) masker, 1 worker:           ${Math.round(one)} records/s  ratio to (a) ${(one / baseline).toFixed(2)}  peak RSS ${rss} MB  ${describe(oneRun)}`);

// (b') the same with the safety net off: what scanning unmasked strings costs in the pipeline.
const netOffGroup = `bench-masker-nonet-${run}`;
children = [startMasker(routeDir(source, `bench.masked-nonet.${run}`), netOffGroup, {}, 'policies-nonet')];
const netOffRun = await measure(netOffGroup, source, RECORDS, children);
await stop(children);
log(`(b') masker, safety net off:    ${Math.round(netOffRun.rate)} records/s  ratio to (a) ${(netOffRun.rate / baseline).toFixed(2)}  (net on/off ${(one / netOffRun.rate).toFixed(2)})  ${describe(netOffRun)}`);

// (c) masker, two workers in one group
const twoGroup = `bench-masker2-${run}`;
const twoRoutes = routeDir(source, `bench.masked2.${run}`);
children = [startMasker(twoRoutes, twoGroup), startMasker(twoRoutes, twoGroup)];
const twoRun = await measure(twoGroup, source, RECORDS, children);
const two = twoRun.rate;
await stop(children);
log(`(c) masker, 2 workers:          ${Math.round(two)} records/s  ${(two / one).toFixed(2)}x of 1 worker  ${describe(twoRun)}`);

// (d) latency at ~half of (b)'s max: source produce time → visible (committed) on the target.
const latSource = `bench.lat.src.${run}`;
const latTarget = `bench.lat.dst.${run}`;
await admin.createTopics({ waitForLeaders: true, topics: [{ topic: latSource, numPartitions: 1, replicationFactor: 1 }] });
const latSchema = await registerSource(latSource);
const latGroup = `bench-lat-${run}`;
children = [startMasker(routeDir(latSource, latTarget), latGroup, { MASKER_BATCH_RECORDS: process.env['BENCH_LATENCY_BATCH'] ?? '500' })];
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
log(`(d) latency at ${rate} records/s:  p50 ${percentile(latencies, 50).toFixed(0)} ms  p99 ${percentile(latencies, 99).toFixed(0)} ms  `
  + `(${received.length - warm}/${total - warm} records after ${WARMUP_SECONDS} s of warm-up at that rate; `
  + `with the warm-up: p50 ${percentile(withWarmup, 50).toFixed(0)} ms, p99 ${percentile(withWarmup, 99).toFixed(0)} ms)`);

const cpu = { baseline: baselineRun, oneWorker: oneRun, safetyNetOff: netOffRun, twoWorkers: twoRun };
const results = { date: new Date().toISOString(), records: RECORDS, cpu, baseline, oneWorker: one, ratio: one / baseline, safetyNetOff: netOffRun.rate, twoWorkers: two, scaling: two / one, peakRssMb: rss, latency: { rate, warmupSeconds: WARMUP_SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), p99WithWarmup: percentile(withWarmup, 99) } };
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/pipeline-${run}.json`, `${JSON.stringify(results, null, 2)}\n`);
await producer.disconnect();
await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.includes(run)) }).catch(() => undefined);
await admin.disconnect();
process.exit(0);
