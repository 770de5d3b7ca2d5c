export type { ActivePolicy, PolicyProvider } from './active-policy.js';
export { FilePolicyStore, loadPolicyFolder, sha256Of, canonicalJson } from './file-policy-store.js';
export { FilePolicySource } from './file-policy-source.js';
export { openPolicyProvider, type OpenPolicyProviderOptions, type OpenedPolicyProvider } from './open-policy-provider.js';
export { activatePolicy, fingerprintOf } from './policy-candidate.js';
export { canonicalPrettyJson, diffLines, diffPolicyDocs, type DiffLine, type PolicyDiff } from './policy-diff.js';
export {
  assertPolicySignature, isValidSignature, loadSigningKey, loadVerifyKey, policyKeysFromEnv, signPolicyDoc,
  SIGNING_KEY_ENV, VERIFY_KEY_ENV, type PolicyKeys,
} from './policy-signature.js';
export type {
  PolicySource, PolicySubscription, PolicyUpdate, RouteRef, StoredPolicy, SubscribeHandlers, ToggleState,
} from './policy-source.js';
export { PolicyWatcher, type PolicyWatcherOptions } from './policy-watcher.js';
export { closeRedis, createRedisClient, describeRedisUrl, type RedisClientOptions } from './redis-client.js';
export { DEFAULT_PREFIX, RedisKeys } from './redis-keys.js';
export { RedisPolicyAdmin, type DiffSpec, type PolicySummary, type PushResult, type RedisPolicyAdminOptions } from './redis-policy-admin.js';
export { RedisPolicySource, type RedisPolicySourceOptions } from './redis-policy-source.js';
