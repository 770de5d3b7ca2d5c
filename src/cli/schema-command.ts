import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { AUDIT_SCHEMA_VERSION, type SchemaAuditEvent } from '../audit/audit-event.js';
import { KafkaAuditSink } from '../audit/audit-sink.js';
import { loadEnv, required } from '../config/env.js';
import { MaskerError } from '../errors.js';
import { ensureTopics } from '../kafka/admin.js';
import { createKafka } from '../kafka/client.js';
import { formatPath } from '../masking/index.js';
import { createLogger } from '../observability/logger.js';
import { openSchemaApprovals } from '../policy/open-schema-guard.js';
import {
  newLeafPaths, routeNameSchema, type ApprovedSchema, type PendingSchema, type SchemaApprovalStore,
} from '../policy/schema-approvals.js';
import type { TextSink } from './policy-command.js';
import { policyStoreSettings } from './policy-store-settings.js';

/** Writes audit events to the audit topic; `close()` resolves with how many could not be written. */
export interface SchemaAuditPublisher {
  publish(event: SchemaAuditEvent): void;
  close(): Promise<number>;
}

export interface SchemaCommandDeps {
  /** REDIS_URL (approvals in Redis; else the policies folder's file), KAFKA_BROKERS / TARGET_KAFKA_BROKERS and MASKER_AUDIT_TOPIC (audit). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: TextSink;
  readonly err?: TextSink;
  /** Redis key prefix. Default `masker` (tests use a unique one). */
  readonly prefix?: string;
  /** Where `schema-approved` events go. Default: the audit topic, through the same sink `masker run` uses. */
  readonly openAudit?: (env: NodeJS.ProcessEnv) => Promise<SchemaAuditPublisher>;
  readonly now?: () => Date;
}

export interface PendingRow {
  readonly route: string;
  readonly subject: string;
  readonly schemaId: number;
  /** New leaves still held: those no schema approved since has. */
  readonly newPaths: readonly string[];
  readonly firstSeen: string;
}

const approveArgs = z.object({
  route: routeNameSchema,
  schemaId: z.string().regex(/^[1-9][0-9]{0,9}$/, 'expected a positive integer').transform(Number)
    .refine((n) => n <= 2 ** 31 - 1, 'expected a registry schema id (at most 2147483647)'),
  by: z.string().trim().min(1, 'expected a name').max(200).regex(/^[^\p{Cc}]+$/u, 'expected no control characters'),
  policies: z.string().min(1),
}).strict();

const pendingArgs = z.object({
  route: routeNameSchema.optional(),
  json: z.boolean().optional(),
  policies: z.string().min(1),
}).strict();

/**
 * `masker schema pending|approve`: the schema-change guard's ops interface. Approvals live where the
 * policies do (REDIS_URL, or `<--policies>/.schema-approvals.state`); workers pick them up live.
 */
export function registerSchemaCommand(program: Command, deps: SchemaCommandDeps = {}): Command {
  const schema = program.command('schema')
    .description('schema-change guard: writer schemas whose new fields are held until approved');

  schema.command('pending')
    .description('list schemas waiting for approval: route, subject, schema id, new field paths, first seen')
    .option('--route <route>', 'only this route')
    .option('--json', 'print JSON')
    .option('--policies <dir>', 'policies folder holding .schema-approvals.state, used when REDIS_URL is not set', 'policies')
    .action(async (opts: Record<string, unknown>) => {
      const args = parseArgs(pendingArgs, opts);
      await withStore(deps, args.policies, (store) => schemaPending(store, { ...args, out: deps.out ?? process.stdout, err: deps.err ?? process.stderr }));
    });

  schema.command('approve')
    .description('approve a held schema: its new fields reach the policy (tags and rules still apply); workers pick it up live')
    .requiredOption('--route <route>', 'route name')
    .requiredOption('--schema-id <id>', 'registry schema id (as `schema pending` lists it)')
    .option('--by <name>', 'who approves (recorded and audited)', defaultActor())
    .option('--policies <dir>', 'policies folder holding .schema-approvals.state, used when REDIS_URL is not set', 'policies')
    .action(async (opts: Record<string, unknown>) => {
      const args = parseArgs(approveArgs, opts);
      await withStore(deps, args.policies, (store) => schemaApprove(store, args, deps));
    });

  return schema;
}

/** The rows `schema pending` prints. Unknown route (nothing recorded for it) → MASKER_INPUT. */
export async function pendingRows(store: SchemaApprovalStore, route?: string): Promise<PendingRow[]> {
  const routes = await store.routes();
  if (route !== undefined && !routes.includes(route)) throw unknownRoute(route, store);
  const rows: PendingRow[] = [];
  for (const name of route === undefined ? routes : [route]) {
    const [pending, approved] = await Promise.all([store.pending(name), store.approved(name)]);
    for (const p of pending) {
      const still = stillHeld(p, approved);
      if (still.length > 0) rows.push({ route: name, subject: p.subject, schemaId: p.schemaId, newPaths: still, firstSeen: p.firstSeen });
    }
  }
  return rows;
}

async function schemaPending(store: SchemaApprovalStore, opts: { route?: string | undefined; json?: boolean | undefined; out: TextSink; err: TextSink }): Promise<void> {
  const rows = await pendingRows(store, opts.route);
  if (opts.json === true) {
    opts.out.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    opts.err.write(`nothing waits for approval${opts.route === undefined ? '' : ` on route ${opts.route}`} (${store.description})\n`);
    return;
  }
  const table = [['ROUTE', 'SUBJECT', 'SCHEMA ID', 'FIRST SEEN', 'NEW FIELDS'], ...rows.map((r) => [
    r.route, r.subject, String(r.schemaId), r.firstSeen, r.newPaths.join(', '),
  ])];
  const widths = table[0]?.map((_, col) => Math.max(...table.map((row) => (row[col] ?? '').length))) ?? [];
  for (const row of table) opts.out.write(`${row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()}\n`);
}

async function schemaApprove(store: SchemaApprovalStore, args: z.infer<typeof approveArgs>, deps: SchemaCommandDeps): Promise<void> {
  const out = deps.out ?? process.stdout;
  const { route, schemaId, by } = args;
  const routes = await store.routes();
  if (!routes.includes(route)) throw unknownRoute(route, store);
  const [pending, approved] = await Promise.all([store.pending(route), store.approved(route)]);
  const matches = pending.filter((p) => p.schemaId === schemaId);
  if (matches.length === 0) {
    const already = approved.filter((a) => a.schemaId === schemaId);
    if (already.length > 0) {
      for (const a of already) out.write(`schema id ${schemaId} (${a.subject}) is already approved on route ${route}, by ${a.by} at ${a.approvedAt}\n`);
      return;
    }
    const waiting = [...new Set(pending.map((p) => p.schemaId))];
    throw new MaskerError('MASKER_INPUT', `route ${route}: schema id ${schemaId} is neither pending nor approved `
      + `(${waiting.length === 0 ? 'nothing is pending on this route' : `pending: ${waiting.join(', ')}`})`);
  }

  // The audit connection first: an approval is never stored without a way to audit it.
  const audit = await (deps.openAudit ?? openKafkaAudit)(deps.env ?? process.env);
  let unsent = 0;
  try {
    for (const match of matches) {
      const at = (deps.now?.() ?? new Date()).toISOString();
      const result = await store.approve(route, match.subject, schemaId, by, at);
      if (result.status === 'unknown') {
        throw new MaskerError('MASKER_INPUT', `route ${route}: schema id ${schemaId} (${match.subject}) is no longer pending`);
      }
      if (result.status === 'already-approved') {
        out.write(`schema id ${schemaId} (${match.subject}) was approved meanwhile on route ${route}, by ${result.approved.by}\n`);
        continue;
      }
      const released = stillHeld(result.pending, approved);
      audit.publish({
        schema: AUDIT_SCHEMA_VERSION, type: 'schema-approved', id: randomUUID(), time: at,
        route, subject: match.subject, schemaId, newPaths: result.pending.newPaths, by,
      });
      out.write(`approved schema id ${schemaId} on route ${route} (${match.subject}) by ${by}: `
        + `${released.length === 0 ? 'no field was still held' : `releases ${released.join(', ')}`}; running workers pick it up within seconds\n`);
    }
  } finally {
    unsent = await audit.close();
  }
  if (unsent > 0) {
    throw new MaskerError('MASKER_KAFKA_UNAVAILABLE', `the approval is stored, but ${unsent} schema-approved audit event(s) could not be written to the audit topic`);
  }
}

/** The leaves of a pending schema that no approved schema of its subject has. */
function stillHeld(p: PendingSchema, approved: readonly ApprovedSchema[]): string[] {
  return newLeafPaths(p.newPaths, approved.filter((a) => a.subject === p.subject));
}

function unknownRoute(route: string, store: SchemaApprovalStore): MaskerError {
  return new MaskerError('MASKER_INPUT', `route ${route}: unknown (no schema recorded for it in ${store.description}; a route's workers record its first schema when they meet it)`);
}

async function withStore(deps: SchemaCommandDeps, policiesDir: string, fn: (store: SchemaApprovalStore) => Promise<void>): Promise<void> {
  const store = openSchemaApprovals({
    policiesDir,
    redis: { maxReconnectAttempts: 2, connectTimeoutMs: 3000 },
    ...policyStoreSettings(deps.env ?? process.env),
    ...(deps.prefix === undefined ? {} : { prefix: deps.prefix }),
  });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** The audit topic on the cluster `masker run` writes it to (TARGET_KAFKA_BROKERS, else KAFKA_BROKERS). */
async function openKafkaAudit(envVars: NodeJS.ProcessEnv): Promise<SchemaAuditPublisher> {
  const env = loadEnv(envVars);
  const brokers = env.TARGET_KAFKA_BROKERS ?? required(env, 'KAFKA_BROKERS');
  const logger = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  const kafka = createKafka({ brokers, clientId: 'masker-schema-cli', logger });
  await ensureTopics(kafka, [{ topic: env.MASKER_AUDIT_TOPIC }]);
  const sink = new KafkaAuditSink(kafka, env.MASKER_AUDIT_TOPIC, logger);
  await sink.start();
  return {
    publish: (event) => sink.publish(event),
    close: async () => {
      await sink.stop();
      return sink.unsent;
    },
  };
}

function parseArgs<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, opts: Record<string, unknown>): T {
  const parsed = schema.safeParse(opts);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `--${formatPath(i.path).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`).join('; ');
  throw new MaskerError('MASKER_INPUT', `schema: ${problems}`);
}

function defaultActor(): string {
  try {
    return process.env['USER'] ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}
