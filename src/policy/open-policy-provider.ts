import type { PolicyAuditEvent } from '../audit/audit-event.js';
import { MaskerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { PolicyProvider } from './active-policy.js';
import { FilePolicyStore } from './file-policy-store.js';
import { loadVerifyKey, VERIFY_KEY_ENV } from './policy-signature.js';
import type { RouteRef } from './policy-source.js';
import { PolicyWatcher } from './policy-watcher.js';
import { describeRedisUrl } from './redis-client.js';
import { RedisPolicySource } from './redis-policy-source.js';

export interface OpenPolicyProviderOptions {
  readonly routes: readonly RouteRef[];
  /** Policies folder, used when REDIS_URL is not set (`--policies`). */
  readonly policiesDir: string;
  /** REDIS_URL (read by the command): Redis holds the policies. Unset: the policies folder. */
  readonly redisUrl?: string | undefined;
  /** MASKER_POLICY_VERIFY_KEY (read by the command): PEM or path of the Ed25519 public key; Redis only. */
  readonly verifyKey?: string | undefined;
  readonly logger?: Logger;
  /** policy-applied / policy-rejected events (Redis only; a folder is loaded once, invalid files are fatal). */
  readonly onEvent?: (event: PolicyAuditEvent) => void;
  /** Redis key prefix. Default `masker`. */
  readonly prefix?: string;
  /** Poll interval of the Redis watcher. Default 5000 ms. */
  readonly pollIntervalMs?: number;
}

export interface OpenedPolicyProvider {
  readonly provider: PolicyProvider;
  /** Where policies come from, for the startup log (no credentials). */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * The policy provider `masker run` should use: with REDIS_URL, a started {@link PolicyWatcher} over Redis
 * (verifying with MASKER_POLICY_VERIFY_KEY when set); without, the policies folder, loaded once. A verify
 * key with a folder is refused: files carry no signatures, so nothing could ever pass.
 */
export async function openPolicyProvider(options: OpenPolicyProviderOptions): Promise<OpenedPolicyProvider> {
  const url = options.redisUrl;
  const verifyKeySetting = (options.verifyKey ?? '').trim() === '' ? undefined : options.verifyKey;
  if (url === undefined) {
    if (verifyKeySetting !== undefined) {
      throw new MaskerError('MASKER_CONFIG', `${VERIFY_KEY_ENV} is set but REDIS_URL is not: policy files carry no signatures; set REDIS_URL or unset ${VERIFY_KEY_ENV}`);
    }
    const store = new FilePolicyStore(options.policiesDir);
    return { provider: store, description: `policies folder ${options.policiesDir}`, stop: () => Promise.resolve() };
  }
  const verifyKey = verifyKeySetting === undefined ? undefined : loadVerifyKey(verifyKeySetting); // workers never load the signing key
  const watcher = new PolicyWatcher({
    source: RedisPolicySource.fromUrl(url, options.prefix === undefined ? {} : { prefix: options.prefix }),
    routes: options.routes,
    ...(verifyKey === undefined ? {} : { verifyKey }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  await watcher.start();
  return {
    provider: watcher,
    description: `${describeRedisUrl(url)}${verifyKey === undefined ? '' : ' (signatures required)'}`,
    stop: () => watcher.stop(),
  };
}
