import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { loadEnv, required } from '../config/env.js';
import { loadRoutes, type Route } from '../config/routes.js';
import { yamlProblem } from '../config/yaml-problem.js';
import { MaskerError } from '../errors.js';
import { canonicalPrettyJson } from '../policy/policy-diff.js';
import { policyKeysFromEnv } from '../policy/policy-signature.js';
import { assertRouteName, assertToggleState, POLICY_NAME } from '../policy/policy-source.js';
import { closeRedis, createRedisClient, describeRedisUrl } from '../policy/redis-client.js';
import { RedisPolicyAdmin } from '../policy/redis-policy-admin.js';
import { checkPolicyAgainstRoutes } from './policy-schema-check.js';

/** Where command output goes (stdout/stderr by default; tests pass collectors). */
export interface TextSink {
  write(text: string): unknown;
}

export interface PolicyCliContext {
  readonly admin: RedisPolicyAdmin;
  /** Results (documents, tables, diffs). */
  readonly out: TextSink;
  /** Notes for people (what was done, metadata). */
  readonly err: TextSink;
  /** SCHEMA_REGISTRY_URL for the push-time schema check. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface PolicyCommandDeps {
  /** Environment (REDIS_URL, MASKER_POLICY_SIGNING_KEY, MASKER_POLICY_VERIFY_KEY). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: TextSink;
  readonly err?: TextSink;
  /** Redis key prefix. Default `masker` (tests use a unique one). */
  readonly prefix?: string;
  /** Receives a subcommand's non-zero exit status (`diff` with differences: 1). Default: process.exitCode. */
  readonly setExitCode?: (code: number) => void;
}

/**
 * `masker policy …`: the ops interface to the policies in Redis. Returns the `policy` command so other
 * subcommands (`validate`) can be attached to it. Every subcommand reads REDIS_URL (fatal when unset).
 */
export function registerPolicyCommand(program: Command, deps: PolicyCommandDeps = {}): Command {
  const run = async (fn: (ctx: PolicyCliContext) => Promise<number>): Promise<void> => {
    const code = await withPolicyContext(deps, fn);
    if (code !== 0) (deps.setExitCode ?? ((c: number) => { process.exitCode = c; }))(code);
  };
  const policy = program.command('policy').description('manage masking policies in Redis (REDIS_URL)');

  policy.command('push').argument('<file>', 'policy document (YAML or JSON)')
    .description('validate, sign (MASKER_POLICY_SIGNING_KEY) and publish a policy as its next version')
    .option('--by <name>', 'who is pushing (recorded as updatedBy)', defaultActor())
    .option('--routes <dir>', 'check the policy against the latest schemas of the routes in this folder that use it', 'topics')
    .action(async (file: string, opts: { by: string; routes: string }) => run((ctx) => policyPush(ctx, file, opts)));

  policy.command('list').description('list policies with version, digest, signature and toggled-off rules')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: true }) => run((ctx) => policyList(ctx, opts)));

  policy.command('show').argument('<name>', 'policy name')
    .description('print a policy document (canonical JSON); metadata goes to stderr')
    .option('--version <n>', 'an earlier version from the history', parseVersion)
    .action(async (name: string, opts: { version?: number }) => run((ctx) => policyShow(ctx, name, opts)));

  policy.command('diff').argument('<name>', 'policy name').argument('[file]', 'candidate document to compare with the current version')
    .description('diff the current version against a file, or two stored versions (--from N --to M); exit 1 when they differ, as diff(1)')
    .option('--from <n>', 'older version', parseVersion)
    .option('--to <n>', 'newer version', parseVersion)
    .action(async (name: string, file: string | undefined, opts: { from?: number; to?: number }) => run((ctx) => policyDiff(ctx, name, file, opts)));

  policy.command('rollback').argument('<name>', 'policy name')
    .description("re-publish an earlier version's document as a new, higher version")
    .requiredOption('--to <n>', 'version to return to', parseVersion)
    .option('--by <name>', 'who is rolling back (recorded as updatedBy)', defaultActor())
    .action(async (name: string, opts: { to: number; by: string }) => run((ctx) => policyRollback(ctx, name, opts)));

  policy.command('toggle').argument('<policy>', 'policy name').argument('<rule>', 'rule name').argument('<state>', 'on | off')
    .description('turn a rule on or off (off: its fields get onUnmatchedSensitive, never pass-through)')
    .action(async (policyName: string, rule: string, state: string) => run((ctx) => policyToggle(ctx, policyName, rule, state)));

  policy.command('route').argument('<route>', 'route name (defined in --routes, or masker serve\'s http-<policy>)')
    .argument('[policy]', 'policy name (must exist in Redis)')
    .description('switch the policy a route uses now (overrides the route file); --clear removes the override')
    .option('--clear', 'remove the override: the route follows its route file\'s policy again')
    .option('--routes <dir>', 'folder of route files: the route must be defined there', 'topics')
    .action(async (route: string, policyName: string | undefined, opts: RouteOptions) => run((ctx) => policyRoute(ctx, route, policyName, opts)));

  return policy;
}

/** Opens Redis from the environment, runs `fn`, always closes. */
export async function withPolicyContext(deps: PolicyCommandDeps, fn: (ctx: PolicyCliContext) => Promise<number>): Promise<number> {
  const env = deps.env ?? process.env;
  const url = required(loadEnv(env), 'REDIS_URL');
  const keys = policyKeysFromEnv(env);
  const client = createRedisClient(url, { maxReconnectAttempts: 2, connectTimeoutMs: 3000 });
  try {
    const admin = new RedisPolicyAdmin({
      client,
      ...(deps.prefix === undefined ? {} : { prefix: deps.prefix }),
      ...(keys.signingKey === undefined ? {} : { signingKey: keys.signingKey }),
      ...(keys.verifyKey === undefined ? {} : { verifyKey: keys.verifyKey }),
    });
    const ctx = { admin, out: deps.out ?? process.stdout, err: deps.err ?? process.stderr, env };
    return await fn(ctx).catch((err: unknown) => {
      if (err instanceof MaskerError && err.code === 'MASKER_REDIS_UNAVAILABLE') {
        throw new MaskerError('MASKER_REDIS_UNAVAILABLE', `${err.message} (REDIS_URL points at ${describeRedisUrl(url)})`, { cause: err });
      }
      throw err;
    });
  } finally {
    await closeRedis(client);
  }
}

export async function policyPush(ctx: PolicyCliContext, file: string, opts: { by: string; routes?: string }): Promise<number> {
  const doc = await readDocument(file);
  if (opts.routes !== undefined) await checkPolicyAgainstRoutes(doc, file, opts.routes, loadEnv(ctx.env ?? process.env).SCHEMA_REGISTRY_URL, ctx.err);
  const result = await ctx.admin.push(doc, { by: opts.by, origin: file });
  ctx.err.write(result.changed
    ? `pushed ${result.name} v${result.version} (sha256 ${result.sha256.slice(0, 12)}, ${result.signed ? 'signed' : 'unsigned'})\n`
    : `${result.name} unchanged at v${result.version} (same document and signature)\n`);
  return 0;
}

export async function policyList(ctx: PolicyCliContext, opts: { json?: boolean }): Promise<number> {
  const policies = await ctx.admin.list();
  if (opts.json === true) {
    ctx.out.write(`${JSON.stringify(policies, null, 2)}\n`);
    return 0;
  }
  if (policies.length === 0) {
    ctx.err.write('no policies in Redis\n');
    return 0;
  }
  const rows = [['NAME', 'VERSION', 'SHA256', 'SIGNED', 'UPDATED', 'BY', 'OFF'], ...policies.map((p) => [
    p.name, String(p.version), p.sha256.slice(0, 12), p.signed ? 'yes' : 'no', p.updatedAt ?? '-', p.updatedBy ?? '-',
    p.disabledRules.length === 0 ? '-' : p.disabledRules.join(','),
  ])];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  for (const row of rows) ctx.out.write(`${row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()}\n`);
  return 0;
}

export async function policyShow(ctx: PolicyCliContext, name: string, opts: { version?: number }): Promise<number> {
  const p = await ctx.admin.show(name, opts.version);
  ctx.err.write(`# ${p.name} v${p.version} sha256 ${p.sha256} ${p.signature === undefined ? 'unsigned' : 'signed'}`
    + `${p.updatedAt === undefined ? '' : ` updated ${p.updatedAt}`}${p.updatedBy === undefined ? '' : ` by ${p.updatedBy}`}\n`);
  ctx.out.write(`${canonicalPrettyJson(p.doc)}\n`);
  return 0;
}

export async function policyDiff(ctx: PolicyCliContext, name: string, file: string | undefined, opts: { from?: number; to?: number }): Promise<number> {
  const versions = opts.from !== undefined || opts.to !== undefined;
  if (file !== undefined && versions) throw new MaskerError('MASKER_INPUT', 'policy diff: give either FILE or --from N --to M, not both');
  let diff;
  if (file !== undefined) {
    diff = await ctx.admin.diff(name, { candidate: await readDocument(file), label: file });
  } else if (opts.from !== undefined && opts.to !== undefined) {
    diff = await ctx.admin.diff(name, { from: opts.from, to: opts.to });
  } else {
    throw new MaskerError('MASKER_INPUT', 'policy diff: expected FILE, or both --from N and --to M');
  }
  if (!diff.changed) {
    ctx.err.write(`no differences between ${diff.from} and ${diff.to}\n`);
    return 0;
  }
  ctx.out.write(diff.text);
  return 1; // as diff(1): a script can gate on "would this push change anything?"
}

export async function policyRollback(ctx: PolicyCliContext, name: string, opts: { to: number; by: string }): Promise<number> {
  const result = await ctx.admin.rollback(name, opts.to, opts.by);
  ctx.err.write(result.changed
    ? `rolled ${name} back to the document of v${opts.to}: now v${result.version} (${result.signed ? 'signed' : 'unsigned'})\n`
    : `${name} v${result.version} already has the document of v${opts.to}; nothing written\n`);
  return 0;
}

export async function policyToggle(ctx: PolicyCliContext, policyName: string, rule: string, state: string): Promise<number> {
  assertToggleState(state);
  const result = await ctx.admin.toggle(policyName, rule, state);
  ctx.err.write(`${policyName} v${result.version}: rule ${rule} ${state}${state === 'off' ? ' (its fields now get onUnmatchedSensitive)' : ''}\n`);
  return 0;
}

export interface RouteOptions {
  /** Remove the override instead of setting one. */
  readonly clear?: boolean;
  /** Folder of route files the route must be defined in. Default `topics`. */
  readonly routes?: string;
}

/**
 * `masker policy route ROUTE POLICY` points a route at a pushed policy; `--clear` removes the override.
 * The route must be defined in the routes folder (or be masker serve's pseudo-route `http-<policy>`): an
 * override for a route no worker runs would be written silently and never used (exit 2 instead).
 */
export async function policyRoute(ctx: PolicyCliContext, route: string, policyName: string | undefined, opts: RouteOptions = {}): Promise<number> {
  if (opts.clear === true && policyName !== undefined) {
    throw new MaskerError('MASKER_INPUT', `policy route ${route}: give either a POLICY or --clear, not both`);
  }
  if (opts.clear !== true && policyName === undefined) {
    throw new MaskerError('MASKER_INPUT', `policy route ${route}: expected a POLICY to switch to, or --clear to remove the override`);
  }
  assertRouteName(route);
  const known = knownRoute(route, opts.routes ?? 'topics');
  if (opts.clear === true) {
    const { cleared } = await ctx.admin.clearRoutePolicy(route, known.filePolicy);
    ctx.err.write(cleared === undefined
      ? `route ${route} has no override; it uses ${known.filePolicy} from ${known.origin}\n`
      : `route ${route}: override removed (it named ${cleared}); it uses ${known.filePolicy} from ${known.origin} again\n`);
    return 0;
  }
  const name = policyName ?? '';
  const result = await ctx.admin.setRoutePolicy(route, name);
  ctx.err.write(`route ${route} now uses ${name} (v${result.version}), overriding ${known.filePolicy} from ${known.origin}`
    + `${name === known.filePolicy ? ' (the same policy: the override still pins it)' : ''}; \`masker policy route ${route} --clear\` removes the override\n`);
  return 0;
}

/** A route the workers (routes folder) or masker serve (`http-<policy>`) run, with the policy its file names. */
function knownRoute(route: string, routesDir: string): { filePolicy: string; origin: string } {
  let routes: Route[] | undefined;
  let failure: unknown;
  try {
    routes = loadRoutes(routesDir);
  } catch (err) {
    failure = err;
  }
  const found = routes?.find((r) => r.name === route);
  if (found !== undefined) return { filePolicy: found.policy, origin: `its route file in ${routesDir}` };
  const served = /^http-(.+)$/.exec(route)?.[1];
  if (served !== undefined && POLICY_NAME.test(served)) return { filePolicy: served, origin: 'masker serve (http-<policy>)' };
  if (routes === undefined) throw failure;
  throw new MaskerError('MASKER_INPUT', `route "${route}" is not defined in ${routesDir} (routes there: ${routes.map((r) => r.name).join(', ')}); `
    + 'pass --routes DIR with the route files the workers run (masker serve\'s routes are http-<policy>)');
}

async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${file}: cannot be read`, { cause });
  }
  try {
    return parseYaml(text) as unknown;
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${file}: ${yamlProblem(cause)}`, { cause });
  }
}

function parseVersion(value: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new InvalidArgumentError('expected a positive integer version');
  return Number(value);
}

function defaultActor(): string {
  try {
    return process.env['USER'] ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}
