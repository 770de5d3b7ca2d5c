import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadEnv } from '../config/env.js';
import { loadRoutes, type Route } from '../config/routes.js';
import { loadKeyRing } from '../config/secrets.js';
import { MaskerError } from '../errors.js';
import { parseBound, resolveRange } from '../kafka/offset-range.js';
import { createLogger } from '../observability/logger.js';
import { latestReplayRun, replayGroupId, runReplay } from '../worker/replay.js';
import { policyStoreSettings } from './policy-store-settings.js';
import { probeClusters } from './clusters.js';
import { RouteRuntime } from './route-runtime.js';

interface ReplayCliOptions {
  readonly route: string;
  readonly from: string;
  readonly to: string;
  readonly rate?: string;
  readonly routes: string;
  readonly policies: string;
  /** Replay a range that was replayed already, as a new run (new consumer group). */
  readonly again?: boolean;
}

/** Progress on a terminal: a bar with records, rate and ETA. Elsewhere: a plain line every 2 s. */
function progressReporter(out: NodeJS.WriteStream): { update(done: number, total: number): void; stop(): void } {
  if (out.isTTY === true) {
    const bar = new SingleBar({
      format: 'replay [{bar}] {percentage}% | {value}/{total} records | {speed} records/s | ETA {eta_formatted}',
      hideCursor: true,
      stream: out,
    });
    const started = performance.now();
    let running = false;
    return {
      update: (done, total) => {
        const speed = Math.round(done / Math.max(0.001, (performance.now() - started) / 1000));
        if (!running) {
          bar.start(total, done, { speed });
          running = true;
        } else bar.update(done, { speed });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let first: { at: number; done: number } | undefined;
  return {
    update: (done, total) => {
      const now = performance.now();
      first ??= { at: now, done };
      if (now - last < 2_000 && done < total) return;
      last = now;
      const rate = (done - first.done) / Math.max(0.001, (now - first.at) / 1000);
      const eta = rate > 0 ? Math.ceil((total - done) / rate) : undefined;
      out.write(`replay: ${done}/${total} records (${Math.floor((done / total) * 100)}%), ${Math.round(rate)} records/s${eta === undefined ? '' : `, ETA ${eta}s`}\n`);
    },
    stop: () => undefined,
  };
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('re-mask a range of a route\'s source topic into its target with the current policy (exactly once, resumable)')
    .requiredOption('--route <name>', 'route name (from --routes)')
    .requiredOption('--from <offset|time>', 'first offset (every partition) or ISO time, inclusive')
    .requiredOption('--to <offset|time>', 'end offset or ISO time, exclusive')
    .option('--rate <n>', 'at most n records per second')
    .option('--routes <dir>', 'folder of route files', 'topics')
    .option('--policies <dir>', 'folder of policy files, used when REDIS_URL is not set', 'policies')
    .option('--again', 'replay a range that was replayed already, again (with the current policy): a new run; without it a finished range is not replayed twice')
    .action(async (opts: ReplayCliOptions) => {
      process.exitCode = await replayCommand(opts);
    });
}

export async function replayCommand(opts: ReplayCliOptions): Promise<number> {
  const env = loadEnv();
  const route = findRoute(loadRoutes(opts.routes), opts.route);
  const from = parseBound(opts.from, '--from');
  const to = parseBound(opts.to, '--to');
  const rate = opts.rate === undefined ? undefined : Number(opts.rate);
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) throw new MaskerError('MASKER_INPUT', `--rate: expected a positive number, got "${opts.rate}"`);
  const logger = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  const keys = loadKeyRing();
  await probeClusters(env);
  const runtime = new RouteRuntime(env, logger, 'masker-replay');
  const { kafka, targetKafka, lookup, mode } = runtime.clusters;
  const admin = kafka.admin();
  await admin.connect();
  const range = await resolveRange(admin, route.source.topic, from, to).finally(() => admin.disconnect());
  const out = process.stderr;
  if (range.clamped.length > 0) out.write(`replay: --to is past the end of partition(s) ${range.clamped.join(', ')}; replaying up to the current end\n`);
  // Runs of one range: without --again the latest run (resumed, or reported done); --again starts the next.
  const latest = await latestReplayRun(kafka, targetKafka, route, range);
  const run = opts.again === true ? latest + 1 : Math.max(1, latest);
  const groupId = replayGroupId(route, range, run);
  const resume = `run the same command${opts.again === true ? ' without --again' : ''} to resume`;
  if (opts.again === true && latest === 0) out.write('replay: --again: this range was never replayed; this is its first run\n');
  out.write(`replay: route ${route.name}, ${range.total} records from ${route.source.topic} into ${route.target.topic} on the ${mode === 'two-cluster' ? 'target cluster (TARGET_KAFKA_BROKERS)' : 'source cluster'} (run ${run}, group ${groupId}; ${resume})\n`);

  // The schema-change guard as in masker run: a writer schema's unapproved new fields are held here too,
  // and what the guard records (baseline, held schemas) is audited on the same audit topic.
  const { policies, schemaGuard } = await runtime.open({ routes: [route], policiesDir: opts.policies, stores: policyStoreSettings() })
    .catch(async (err: unknown) => {
      await runtime.close();
      throw err;
    });
  const progress = progressReporter(out);
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => { interrupt = resolve; });
  process.once('SIGINT', () => interrupt());
  process.once('SIGTERM', () => interrupt());
  try {
    const result = await runReplay({
      kafka, route, range, keys, logger, lookup,
      ...(targetKafka === undefined ? {} : { targetKafka }),
      policies: policies.provider,
      auditTopic: env.MASKER_AUDIT_TOPIC,
      quarantineTopic: env.MASKER_QUARANTINE_TOPIC,
      maxRecordBytes: env.MASKER_MAX_RECORD_BYTES,
      auditMode: env.MASKER_AUDIT,
      maxBatchRecords: env.MASKER_BATCH_RECORDS,
      partitionConcurrency: env.MASKER_PARTITION_CONCURRENCY,
      ...(rate === undefined ? {} : { rate }),
      onProgress: (done, total) => progress.update(done, total),
      interrupted,
      run,
      schemaGuard,
    });
    progress.stop();
    if (result.alreadyDone) {
      out.write(`replay: already done: run ${run} replayed these ${result.total} records into ${route.target.topic} before (group ${groupId}); nothing written. `
        + 'To replay the range again with the current policy (a new run: the target gets the records once more), add --again\n');
      return 0;
    }
    if (result.interrupted) {
      out.write(`replay: interrupted at ${result.done}/${result.total} (run ${run}); committed work is kept — ${resume}\n`);
      return 130;
    }
    out.write(`replay: done, ${result.total} records re-masked into ${route.target.topic} (run ${run})\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

function findRoute(routes: readonly Route[], name: string): Route {
  const route = routes.find((r) => r.name === name);
  if (route === undefined) throw new MaskerError('MASKER_INPUT', `--route: no route named "${name}" (known: ${routes.map((r) => r.name).join(', ')})`);
  return route;
}
