import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { loadEnv, required } from '../config/env.js';
import { loadRoutes, type Route } from '../config/routes.js';
import { describeError, isMaskerError, MaskerError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { parseBound } from '../kafka/offset-range.js';
import type { FieldScanner } from '../masking/index.js';
import { suggestPolicy, suggestTags } from '../masking/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { openPolicyProvider } from '../policy/open-policy-provider.js';
import { policyStoreSettings } from './policy-store-settings.js';
import { RegistryClient } from '../registry/registry-client.js';
import { CachedSchemaLookup, type SchemaLookup } from '../registry/schema-cache.js';
import { readFrame } from '../registry/wire-format.js';
import type { CliIo, EnvelopeOption } from './mask-command.js';
import { loadPolicyFile, loadSchemaFile, processIo } from './mask-command.js';
import type { ScanReport, ScanSource } from './scan-report.js';
import { renderJson, renderPolicySuggestion, renderTagSuggestion, renderText, SCAN_EXIT_CODES, scanProgress } from './scan-report.js';
import { ScanRun, type ResolvedPolicy } from './scan-run.js';
import { readRanges, sampleRanges, type SampleRange } from './scan-sampling.js';

/**
 * `masker scan`: PII discovery before go-live. Samples a topic (Confluent wire format, Avro; schemas by id
 * from the registry, cached) or reads Avro JSON-encoding lines offline, and reports per field what covers
 * it, the detector hits on its sampled values and its name hints (src/masking/field-scan.ts does the
 * analysis). Exit 1 when uncovered PII was found, 0 when not, 2 when the scan could not run (usage, input,
 * an unknown topic, services unreachable, or no record readable). Never prints a sampled value.
 */
export interface ScanCommandOptions {
  readonly topic?: string;
  readonly samples?: string;
  /** `beginning`, an offset (every partition) or an ISO time; default: the newest records. */
  readonly from?: string;
  /** A policy name (Redis, or the policies folder) or a policy file. */
  readonly policy?: string;
  readonly route?: string;
  readonly routes?: string;
  readonly policies?: string;
  /** Default: the route's envelope, else `auto`. */
  readonly envelope?: EnvelopeOption;
  readonly suggest?: 'policy' | 'tags';
  readonly json?: boolean;
  readonly schema?: string;
  readonly in?: string;
}

/** Injected in tests. */
export interface ScanDeps {
  readonly kafka?: Kafka;
  readonly lookup?: SchemaLookup;
  /** How long to wait for a record before the end offsets before giving up. Default 15 s. */
  readonly idleMs?: number;
}

const DEFAULT_SAMPLES = 1000;
const POLICY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Runs the scan and prints; returns the exit code (never throws). */
export async function runScanCommand(options: ScanCommandOptions, io: CliIo, deps: ScanDeps = {}): Promise<number> {
  try {
    const { run, source, requested } = await scan(options, io, deps);
    const report = run.report(source, requested);
    const out = SCAN_EXIT_CODES[report.outcome];
    if (options.suggest === undefined) {
      io.stdout.write(options.json === true ? renderJson(report) : renderText(report));
      return out;
    }
    if (options.suggest === 'policy') {
      const suggestion = suggestPolicy(report.fields, { ...(run.policy === undefined ? {} : { base: run.policy.policy }), schemas: run.schemas });
      if (options.json === true) io.stdout.write(renderJson(report, { policy: suggestion }));
      else {
        io.stderr.write(renderText(report));
        io.stdout.write(renderPolicySuggestion(suggestion, report.policy));
      }
      return out;
    }
    const newest = [...run.schemas].sort((a, b) => (b.id ?? 0) - (a.id ?? 0))[0];
    if (newest === undefined) {
      io.stderr.write(renderText(report));
      io.stderr.write('masker scan: no schema was seen: no tags to suggest\n');
      return out;
    }
    const suggestion = suggestTags(newest.json, report.fields);
    const note = run.schemas.length > 1 ? `tags suggested on schema id ${newest.id}, the newest of ${report.schemaIds.join(', ')}` : undefined;
    const withNote: ScanReport = note === undefined ? report : { ...report, notes: [...report.notes, note] };
    if (options.json === true) io.stdout.write(renderJson(withNote, { tags: suggestion }));
    else {
      io.stderr.write(renderText(withNote));
      io.stdout.write(renderTagSuggestion(suggestion));
    }
    return out;
  } catch (err) {
    // kafkajs messages name brokers and topics; other libraries' messages could quote data: name only.
    const { code, message } = isMaskerError(err) || !(err instanceof Error && err.name.startsWith('KafkaJS'))
      ? describeError(err)
      : { code: err.name, message: err.message };
    io.stderr.write(`masker scan: ${code}: ${message}\n`);
    return 2;
  }
}

async function scan(options: ScanCommandOptions, io: CliIo, deps: ScanDeps): Promise<{ run: ScanRun; source: ScanSource; requested: number | null }> {
  const offline = options.schema !== undefined;
  if (offline && (options.topic !== undefined || options.from !== undefined)) usage('--schema (offline) cannot be combined with --topic or --from');
  if (!offline && options.in !== undefined) usage('--in needs --schema (offline mode)');
  if (!offline && options.topic === undefined && options.route === undefined) usage('pass --topic (or --route), or --schema with --in for a file');
  const samples = options.samples === undefined ? undefined : Number(options.samples);
  if (samples !== undefined && (!Number.isInteger(samples) || samples < 1)) usage(`--samples: expected a positive integer, got "${options.samples}"`);

  const env = loadEnv(io.env);
  const logger = createLogger(io.env['LOG_LEVEL'] === undefined ? 'error' : env.LOG_LEVEL);
  const routesDir = options.routes ?? 'topics';
  let route: Route | undefined;
  const notes: string[] = [];
  if (options.route !== undefined) {
    const routes = loadRoutes(routesDir);
    route = routes.find((r) => r.name === options.route);
    if (route === undefined) usage(`--route: no route named "${options.route}" in ${routesDir} (known: ${routes.map((r) => r.name).join(', ')})`);
  } else if (!offline && options.policy === undefined && existsSync(routesDir)) {
    // The policy masker would apply: that of the route reading this topic, if there is one.
    try {
      route = loadRoutes(routesDir).find((r) => r.source.topic === options.topic);
      if (route !== undefined) notes.push(`policy of route ${route.name} (its source topic is ${route.source.topic})`);
    } catch (err) {
      notes.push(`routes in ${routesDir} not read (${describeError(err).message}): scanning without a policy`);
    }
  }
  const topic = options.topic ?? route?.source.topic;
  if (options.topic !== undefined && options.route !== undefined && route !== undefined && route.source.topic !== options.topic) {
    usage(`--topic ${options.topic} is not the source topic of route ${route.name} (${route.source.topic})`);
  }
  const policy = await resolvePolicy(options, route, io, logger);
  const run = new ScanRun(policy, options.envelope ?? route?.envelope ?? 'auto');
  run.notes.push(...notes);

  if (offline) {
    const schemaFile = options.schema ?? '';
    await scanFile(run, schemaFile, options.in, samples, io);
    return { run, source: { file: options.in ?? 'stdin', schemaFile }, requested: samples ?? null };
  }
  if (topic === undefined) return usage('no topic');
  const limit = samples ?? DEFAULT_SAMPLES;
  const source = await scanTopic(run, topic, options.from, limit, env, logger, io, options.json !== true, deps);
  return { run, source, requested: limit };
}

function usage(message: string): never {
  throw new MaskerError('MASKER_INPUT', message);
}

/** `--policy FILE` (anything that is not a policy name, or an existing file), `--policy NAME`, or the route's. */
async function resolvePolicy(options: ScanCommandOptions, route: Route | undefined, io: CliIo, logger: Logger): Promise<ResolvedPolicy | undefined> {
  const given = options.policy;
  if (given !== undefined && (!POLICY_NAME.test(given) || existsSync(given))) {
    const policy = loadPolicyFile(given);
    return { policy, disabledRules: new Set(), info: { name: policy.name, origin: `file ${given}`, disabledRules: [] } };
  }
  // An explicit name is looked up as itself (a pseudo-route no run-time override names); a route as the worker would.
  const ref = given !== undefined ? { name: 'masker-scan', policy: given } : route;
  if (ref === undefined) return undefined;
  const refused: string[] = [];
  const opened = await openPolicyProvider({
    routes: [ref],
    policiesDir: options.policies ?? 'policies',
    ...policyStoreSettings(io.env),
    logger,
    pollIntervalMs: 0,
    onEvent: (e) => {
      if (e.type === 'policy-rejected' && e.error !== undefined) refused.push(`v${e.policy.version} refused: ${e.error.code}: ${e.error.message}`);
    },
  });
  try {
    const active = opened.provider.policyFor(ref);
    if (active === undefined) {
      const whose = given !== undefined ? `policy "${given}"` : `the policy of route ${ref.name} ("${ref.policy}" or its run-time override)`;
      throw new MaskerError('MASKER_POLICY_MISSING', `${whose} not found in ${opened.description}${refused.length > 0 ? ` (${refused.join('; ')})` : ''}`);
    }
    return {
      policy: active.policy,
      disabledRules: active.disabledRules,
      info: { name: active.name, version: active.version, origin: opened.description, disabledRules: [...active.disabledRules] },
    };
  } finally {
    await opened.stop();
  }
}

/** Offline: Avro JSON-encoding lines, as `masker mask` reads them; a line that does not parse is counted, not fatal. */
async function scanFile(run: ScanRun, schemaFile: string, inFile: string | undefined, limit: number | undefined, io: CliIo): Promise<void> {
  const schema = loadSchemaFile(schemaFile);
  const scanner = run.addSchema(undefined, schema.type, schema.json);
  if (inFile !== undefined && !existsSync(inFile)) usage(`--in ${inFile}: no such file`);
  const input = inFile === undefined ? io.stdin : createReadStream(inFile);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      if (limit !== undefined && run.read >= limit) break;
      run.read++;
      let record: unknown;
      try {
        record = schema.type.fromString(line);
      } catch {
        run.fail('MASKER_INPUT', 'not a record of the schema in Avro JSON encoding', `line ${lineNo}`);
        continue;
      }
      run.record(scanner, record);
    }
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${inFile ?? 'stdin'}: cannot read the input`, { cause });
  } finally {
    lines.close();
  }
}

async function scanTopic(
  run: ScanRun, topic: string, from: string | undefined, limit: number, env: ReturnType<typeof loadEnv>, logger: Logger,
  io: CliIo, showProgress: boolean, deps: ScanDeps,
): Promise<ScanSource> {
  let fromBound: ReturnType<typeof parseBound> | undefined;
  try {
    fromBound = from === undefined || from === 'beginning' ? undefined : parseBound(from, '--from');
  } catch {
    usage(`--from: expected beginning, an offset (e.g. 1200, in every partition) or an ISO 8601 time with a zone (e.g. 2026-11-28T09:00:00Z), got "${from ?? ''}"`);
  }
  const registry = new RegistryClient({ url: required(env, 'SCHEMA_REGISTRY_URL') });
  const lookup = deps.lookup ?? new CachedSchemaLookup(registry);
  const brokers = required(env, 'KAFKA_BROKERS');
  const kafka = deps.kafka ?? createKafka({ brokers, clientId: 'masker-scan', logger });
  const admin = kafka.admin();
  await admin.connect();
  let ranges: SampleRange[];
  try {
    if (!(await admin.listTopics()).includes(topic)) usage(`topic ${topic} does not exist (cluster ${brokers.join(',')})`);
    const watermarks = (await admin.fetchTopicOffsets(topic)).map((w) => ({ partition: w.partition, low: BigInt(w.low), high: BigInt(w.high) }));
    let starts: Map<number, bigint> | undefined;
    if (from === 'beginning') starts = new Map(watermarks.map((w) => [w.partition, w.low]));
    else if (fromBound?.kind === 'offset') starts = new Map(watermarks.map((w) => [w.partition, fromBound.offset]));
    else if (fromBound?.kind === 'time') {
      const at = await admin.fetchTopicOffsetsByTimestamp(topic, fromBound.ms);
      starts = new Map(at.map((e) => [e.partition, BigInt(e.offset) < 0n ? (watermarks.find((w) => w.partition === e.partition)?.high ?? 0n) : BigInt(e.offset)]));
    }
    ranges = sampleRanges(watermarks, limit, starts);
  } finally {
    await admin.disconnect();
  }
  const source: ScanSource = { topic, partitions: ranges.length, from: from ?? 'newest records' };

  const scanners = new Map<number, Promise<FieldScanner>>();
  const scannerFor = (id: number): Promise<FieldScanner> => {
    let pending = scanners.get(id);
    if (pending === undefined) {
      pending = lookup.byId(id).then((s) => run.addSchema(id, s.type, s.json));
      pending.catch(() => undefined);
      scanners.set(id, pending);
    }
    return pending;
  };

  const available = ranges.reduce((sum, r) => sum + (r.end - r.start), 0n);
  if (available === 0n) {
    run.notes.push(`topic ${topic} has no records${from === undefined ? '' : ` from --from ${from}`} (end offsets read at the start)`);
    await describeRegisteredSchema(run, topic, registry, scannerFor);
    return source;
  }
  const total = Number(available < BigInt(limit) ? available : BigInt(limit));
  const progress = scanProgress(io.stderr, showProgress && (io.stderr as NodeJS.WriteStream).isTTY === true);
  const onMessage = async (partition: number, message: KafkaMessage): Promise<void> => {
    run.read++;
    const where = `partition ${partition} offset ${message.offset}`;
    if (message.value === null) {
      run.tombstones++;
      return;
    }
    let frame: ReturnType<typeof readFrame>;
    try {
      frame = readFrame(message.value, where);
    } catch {
      run.fail('MASKER_WIRE_FORMAT', 'not in the Confluent wire format (magic byte 0, 4-byte schema id, Avro)', where);
      return;
    }
    let scanner: FieldScanner;
    try {
      scanner = await scannerFor(frame.schemaId);
    } catch (err) {
      if (isMaskerError(err) && err.disposition === 'retry') throw err;
      const code = isMaskerError(err) ? err.code : 'MASKER_DECODE';
      const what = code === 'MASKER_SCHEMA_NOT_FOUND' ? `unknown schema id ${frame.schemaId} (not in the registry)` : `schema id ${frame.schemaId} cannot be scanned: ${describeError(err).message}`;
      run.fail(code, what, where);
      return;
    }
    try {
      run.record(scanner, scanner.decode(frame.body));
    } catch {
      run.fail('MASKER_DECODE', `the Avro body does not decode with its writer schema (id ${frame.schemaId})`, where);
    }
  };
  try {
    const { idle } = await readRanges(kafka, topic, ranges, limit, deps.idleMs ?? 15_000, async (p, m) => {
      await onMessage(p, m);
      progress.update(run.read, total);
    });
    if (idle) run.notes.push(`stopped early: no record arrived for ${Math.round((deps.idleMs ?? 15_000) / 1000)} s before the end offsets (an open transaction?)`);
  } finally {
    progress.stop();
  }
  if (run.read > 0 && run.decoded === 0) run.notes.push('no record could be decoded: see "not readable" above');
  return source;
}

/** An empty topic: the fields of the latest schema registered for its values (coverage and name hints; no values). */
async function describeRegisteredSchema(run: ScanRun, topic: string, registry: RegistryClient, scannerFor: (id: number) => Promise<FieldScanner>): Promise<void> {
  const subject = `${topic}-value`;
  try {
    const latest = await registry.latest(subject);
    if (latest === undefined) {
      run.notes.push(`no schema registered under ${subject} either: nothing to scan`);
      return;
    }
    await scannerFor(latest.id);
    run.notes.push(`fields from the latest schema of ${subject} (v${latest.version}, id ${latest.id}): coverage and name hints only, no values sampled`);
  } catch (err) {
    run.notes.push(`the schema of ${subject} could not be read (${describeError(err).message})`);
  }
}

export function registerScanCommand(program: Command, io: CliIo = processIo()): void {
  program
    .command('scan')
    .description('find PII that tags and the policy miss: sample a topic (or read a file) and report per field what covers it, detector hits and name hints (exit 1 when uncovered PII was found)')
    .option('--topic <name>', 'topic to sample (Confluent wire format, Avro; schemas from SCHEMA_REGISTRY_URL)')
    .option('--samples <n>', `records to sample (default ${DEFAULT_SAMPLES}; offline: every line)`)
    .option('--from <when>', 'where to start in each partition: beginning, an offset, or an ISO time (default: the newest records)')
    .option('--policy <name|file>', 'policy: a name (from Redis with REDIS_URL, else --policies) or a YAML/JSON file (default: the route\'s)')
    .option('--route <name>', 'route whose source topic, policy and envelope to use (from --routes)')
    .option('--routes <dir>', 'folder of route files', 'topics')
    .option('--policies <dir>', 'folder of policy files, used when REDIS_URL is not set', 'policies')
    .addOption(new Option('--envelope <kind>', 'record envelope (default: the route\'s, else auto: debezium when before/after/op)').choices(['auto', 'debezium', 'none']))
    .addOption(new Option('--suggest <what>', 'print rules for the uncovered fields (policy) or the schema with confluent:tags added (tags)').choices(['policy', 'tags']))
    .option('--json', 'print one JSON report')
    .option('--schema <file>', 'offline: Avro schema (.avsc) of the records in --in')
    .option('--in <file>', 'offline: Avro JSON-encoding lines (default: stdin)')
    .action(async (opts: ScanCommandOptions) => {
      process.exitCode = await runScanCommand(opts, io);
    });
}
