import { z } from 'zod';
import { MaskerError } from '../errors.js';

/**
 * Endpoints and settings read from the environment. Every variable is documented with its default here.
 * Unknown MASKER_* variables are not an error (the environment is shared), but each known one is validated.
 */
const brokersSchema = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()).filter((b) => b !== ''))
  .refine((list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), {
    message: 'expected host:port[,host:port...]',
  });

const urlSchema = z.string().url();

export const envSchema = z.object({
  /** Source cluster bootstrap brokers, `host:port[,host:port]`. Required for run/replay/demo. */
  KAFKA_BROKERS: brokersSchema.optional(),
  /** Source Confluent-compatible schema registry, e.g. `http://127.0.0.1:18081`. */
  SCHEMA_REGISTRY_URL: urlSchema.optional(),
  /** Redis holding policies at run time. When unset, policies come from the policies folder. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port or rediss://...').optional(),
  /** Optional separate target cluster for masked records and audit. Default: the source cluster. */
  TARGET_KAFKA_BROKERS: brokersSchema.optional(),
  /** Optional separate target registry. Default: the source registry. */
  TARGET_SCHEMA_REGISTRY_URL: urlSchema.optional(),
  /** pino level. Default `info`. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Port of the /metrics, /healthz, /readyz server. Default: 9464; `0` disables it. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Interface the metrics/health server binds. Default 127.0.0.1; use 0.0.0.0 in containers. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Without REDIS_URL: the schema-change guard's approvals file (default `<policies folder>/.schema-approvals.state`).
   * Point it at a writable volume when the policies folder is read-only (a ConfigMap mount).
   */
  MASKER_SCHEMA_APPROVALS_FILE: z.string().min(1).optional(),
  /** Seconds between `masker run`'s per-route status lines (committed, quarantined, lag); 0 turns them off. */
  MASKER_STATUS_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  /** Consumer group id of the workers. Default `masker`. */
  MASKER_GROUP_ID: z.string().min(1).default('masker'),
  /** Audit topic (target cluster). Default `masker.audit`. */
  MASKER_AUDIT_TOPIC: z.string().min(1).default('masker.audit'),
  /**
   * `chunk` (audit v2, default): one chunk event per transaction, a plan event per plan first used, a
   * `masker.plan` lineage header on each masked record. `record`: v1, one event per source record (docs/audit.md).
   */
  MASKER_AUDIT: z.enum(['chunk', 'record']).default('chunk'),
  /** Quarantine topic (SOURCE cluster: it receives raw records). Default `masker.quarantine`. */
  MASKER_QUARANTINE_TOPIC: z.string().min(1).default('masker.quarantine'),
  /** Records per transaction (per partition chunk). Default 500. */
  MASKER_BATCH_RECORDS: z.coerce.number().int().min(1).max(100_000).default(500),
  /** Partitions one worker masks at the same time, each in its own transaction. Default 2: while one
   *  partition's transaction waits on the broker, another's records are masked. */
  MASKER_PARTITION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Consumer session timeout: how long a dead worker holds its partitions. Default 30000 (broker minimum 6000). */
  MASKER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Records larger than this (key + value bytes) are quarantined. Default 900 KiB: a masked record must
   *  still fit the broker's message.max.bytes (1 MiB by default) with its headers. */
  MASKER_MAX_RECORD_BYTES: z.coerce.number().int().positive().default(900 * 1024),
});

export type MaskerEnv = z.infer<typeof envSchema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): MaskerEnv {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])),
  );
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new MaskerError('MASKER_CONFIG', `invalid environment: ${problems}`);
  }
  return parsed.data;
}

/** Returns a required setting or throws a fatal error naming it. */
export function required<K extends keyof MaskerEnv>(env: MaskerEnv, key: K): NonNullable<MaskerEnv[K]> {
  const value = env[key];
  if (value === undefined || value === null) {
    throw new MaskerError('MASKER_CONFIG', `${String(key)} is not set (run \`npm run stack:up\` and export the lines it prints)`);
  }
  return value as NonNullable<MaskerEnv[K]>;
}
