import { loadEnv } from '../config/env.js';
import { VERIFY_KEY_ENV } from '../policy/policy-signature.js';

/** Where policies and schema approvals live, as the environment says. Read here (cli/) and passed down. */
export interface PolicyStoreSettings {
  /** REDIS_URL: policies and approvals in Redis. Unset: the policies folder. */
  readonly redisUrl: string | undefined;
  /** MASKER_POLICY_VERIFY_KEY, as given (PEM or path); loaded by the policy provider. */
  readonly verifyKey: string | undefined;
  /** MASKER_SCHEMA_APPROVALS_FILE (without Redis). */
  readonly approvalsFile: string | undefined;
}

export function policyStoreSettings(env: NodeJS.ProcessEnv = process.env): PolicyStoreSettings {
  const parsed = loadEnv(env);
  const verifyKey = env[VERIFY_KEY_ENV];
  return {
    redisUrl: parsed.REDIS_URL,
    verifyKey: verifyKey === undefined || verifyKey.trim() === '' ? undefined : verifyKey,
    approvalsFile: parsed.MASKER_SCHEMA_APPROVALS_FILE,
  };
}
