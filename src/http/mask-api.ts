import { describeError } from '../errors.js';
import type { KeyRing } from '../masking/index.js';
import type { Logger } from '../observability/logger.js';
import { MaskerMetrics } from '../observability/metrics.js';
import { FilePolicySource } from '../policy/file-policy-source.js';
import { openPolicyProvider, type OpenedPolicyProvider } from '../policy/open-policy-provider.js';
import { RedisPolicySource } from '../policy/redis-policy-source.js';
import { RegistryClient } from '../registry/registry-client.js';
import { CachedSchemaLookup } from '../registry/schema-cache.js';
import type { ApiKeyStore } from './api-keys.js';
import type { HttpAuditSink } from './http-audit.js';
import { startMaskServer, type RunningMaskServer } from './mask-server.js';
import { httpRouteFor, MaskService } from './mask-service.js';

export interface MaskApiOptions {
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly apiKeys: ApiKeyStore;
  /** Policy used when a request names none (`--policy`, default `default`). */
  readonly defaultPolicy: string;
  /** Policies folder, used when REDIS_URL is not set (`--policies`). */
  readonly policiesDir: string;
  /** REDIS_URL (read by the command): policies from Redis. Unset: the policies folder. */
  readonly redisUrl?: string | undefined;
  /** MASKER_POLICY_VERIFY_KEY (read by the command): PEM or path; Redis only. */
  readonly verifyKey?: string | undefined;
  readonly registryUrl: string;
  readonly keys: KeyRing;
  /** Where audit events go; started by the caller, stopped by the caller after close(). */
  readonly audit: HttpAuditSink;
  readonly logger: Logger;
  readonly metrics?: MaskerMetrics;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Redis key prefix (tests). Default `masker`. */
  readonly policyPrefix?: string;
  /** Redis poll interval. Default 5000 ms. */
  readonly pollIntervalMs?: number;
}

export interface MaskApi {
  readonly port: number;
  readonly url: string;
  /** Policy names served (each through the pseudo-route `http-<name>`). */
  readonly servedPolicies: readonly string[];
  /** Where policies come from (no credentials). */
  readonly policySource: string;
  /** Graceful: stop accepting, finish calls in flight (≤ graceMs), stop the policy watcher. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Wires the HTTP masking API: live policies (Redis watcher or folder, exactly as `masker run`), the
 * schema registry, the key ring and the audit sink, behind {@link startMaskServer}.
 *
 * Served policies are fixed at startup: the default policy, every policy an API key is limited to, and
 * every policy the store holds at startup. Each is watched (new versions, toggles and signature checks
 * apply live) through the pseudo-route `http-<name>`, so `masker policy route http-<name> <stricter>`
 * switches what the API applies for that name.
 */
export async function startMaskApi(options: MaskApiOptions): Promise<MaskApi> {
  const { logger } = options;
  const metrics = options.metrics ?? new MaskerMetrics();
  const stored = await storedPolicyNames(options.redisUrl, options.policiesDir, options.policyPrefix);
  const served = [...new Set([options.defaultPolicy, ...options.apiKeys.namedPolicies(), ...stored])].sort();

  const policies: OpenedPolicyProvider = await openPolicyProvider({
    routes: served.map(httpRouteFor),
    policiesDir: options.policiesDir,
    redisUrl: options.redisUrl,
    verifyKey: options.verifyKey,
    logger,
    ...(options.policyPrefix === undefined ? {} : { prefix: options.policyPrefix }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    onEvent: (event) => {
      if (event.type === 'policy-applied') metrics.policyVersion.set({ policy: event.policy.name }, event.policy.version);
      options.audit.write(event).catch((err: unknown) => logger.error({ error: describeError(err) }, 'policy audit event not written'));
    },
  });
  let server: RunningMaskServer;
  try {
    const registry = new RegistryClient({ url: options.registryUrl });
    const service = new MaskService({
      registry,
      lookup: new CachedSchemaLookup(registry),
      policies: policies.provider,
      servedPolicies: new Set(served),
      defaultPolicy: options.defaultPolicy,
      keys: options.keys,
    });
    const missing = served.filter((name) => policies.provider.policyFor(httpRouteFor(name)) === undefined);
    if (missing.length > 0) {
      logger.warn({ policies: missing, source: policies.description }, 'served policies without a valid version: their calls get 503 until one is loaded');
    }
    if (service.defaultPolicy() === undefined) {
      logger.warn({ policy: options.defaultPolicy }, 'default policy not loaded: /readyz answers 503 until it is');
    }
    server = await startMaskServer({
      port: options.port,
      apiKeys: options.apiKeys,
      audit: options.audit,
      service,
      metrics,
      logger,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    });
  } catch (err) {
    await policies.stop();
    throw err;
  }
  return {
    port: server.port,
    url: server.url,
    servedPolicies: served,
    policySource: policies.description,
    close: async (graceMs) => {
      await server.close(graceMs);
      await policies.stop();
    },
  };
}

/** Names of the policies the store holds now (Redis when REDIS_URL is set, else the folder). */
async function storedPolicyNames(url: string | undefined, policiesDir: string, prefix: string | undefined): Promise<string[]> {
  const source = url === undefined
    ? new FilePolicySource(policiesDir)
    : RedisPolicySource.fromUrl(url, { maxReconnectAttempts: 3, ...(prefix === undefined ? {} : { prefix }) });
  try {
    return await source.names();
  } finally {
    await source.close();
  }
}
