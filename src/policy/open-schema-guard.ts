import type { SchemaAuditEvent } from '../audit/audit-event.js';
import type { Logger } from '../observability/logger.js';
import { FileSchemaApprovals } from './file-schema-approvals.js';
import type { RedisClientOptions } from './redis-client.js';
import { RedisSchemaApprovals } from './redis-schema-approvals.js';
import type { SchemaApprovalStore } from './schema-approvals.js';
import { SchemaGuard, type GuardedRoute } from './schema-guard.js';

export interface OpenSchemaApprovalsOptions {
  /** Policies folder: the approvals file lives there when REDIS_URL is not set (`--policies`). */
  readonly policiesDir: string;
  /** REDIS_URL (read by the command): approvals live in Redis. Unset: in a file. */
  readonly redisUrl?: string | undefined;
  /** MASKER_SCHEMA_APPROVALS_FILE (read by the command), without Redis. Default `<policies folder>/.schema-approvals.state`. */
  readonly approvalsFile?: string | undefined;
  /** Redis key prefix. Default `masker`. */
  readonly prefix?: string;
  /** Redis connection settings (the CLI fails fast). */
  readonly redis?: RedisClientOptions;
}

/**
 * Where approvals live, as for policies: Redis when REDIS_URL is set, else MASKER_SCHEMA_APPROVALS_FILE, else
 * `<policies folder>/.schema-approvals.state`.
 */
export function openSchemaApprovals(options: OpenSchemaApprovalsOptions): SchemaApprovalStore {
  const url = options.redisUrl;
  if (url === undefined) {
    const file = options.approvalsFile;
    return file === undefined ? FileSchemaApprovals.inPoliciesDir(options.policiesDir) : new FileSchemaApprovals(file);
  }
  return RedisSchemaApprovals.fromUrl(url, { ...options.redis, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) });
}

export interface OpenSchemaGuardOptions extends OpenSchemaApprovalsOptions {
  readonly routes: readonly GuardedRoute[];
  readonly logger?: Logger;
  readonly onEvent?: (event: SchemaAuditEvent) => void;
  /** Default 5000 ms. */
  readonly pollIntervalMs?: number;
}

/** The started schema-change guard `masker run` / `masker replay` use. Rejects when the store is unreachable. */
export async function openSchemaGuard(options: OpenSchemaGuardOptions): Promise<SchemaGuard> {
  const store = openSchemaApprovals(options);
  if (store instanceof FileSchemaApprovals) await store.assertWritable();
  const guard = new SchemaGuard({
    store,
    routes: options.routes,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  await guard.start();
  return guard;
}
