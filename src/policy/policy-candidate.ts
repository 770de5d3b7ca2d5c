import type { KeyObject } from 'node:crypto';
import { MaskerError } from '../errors.js';
import { parsePolicy } from '../masking/index.js';
import type { ActivePolicy } from './active-policy.js';
import { sha256Of } from './file-policy-store.js';
import { assertPolicySignature } from './policy-signature.js';
import type { StoredPolicy, ToggleState } from './policy-source.js';

/**
 * Identity of what a store holds for a policy right now: version, digest, signature and toggles. Equal
 * fingerprints mean there is nothing new to validate.
 */
export function fingerprintOf(stored: StoredPolicy, toggles: ReadonlyMap<string, ToggleState>): string {
  const off = [...toggles].filter(([, s]) => s === 'off').map(([r]) => r).sort();
  return `${stored.version}|${stored.sha256}|${stored.signature ?? ''}|${off.join(',')}`;
}

/**
 * Turns a stored policy into an ActivePolicy, or throws the reason it must not be used:
 *  - MASKER_POLICY_INVALID: strict validation failed, `name` differs from the key, the stored sha256 is
 *    not the document's, or the version is older than (or equal to, with another document) the
 *    last one applied — a version never goes backwards without an explicit rollback (a new version);
 *  - MASKER_POLICY_SIGNATURE: a verify key is set and the document is unsigned or badly signed.
 * Toggles that name rules the policy does not have are ignored.
 */
export function activatePolicy(
  stored: StoredPolicy,
  toggles: ReadonlyMap<string, ToggleState>,
  options: { readonly origin: string; readonly verifyKey?: KeyObject | undefined; readonly previous?: ActivePolicy | undefined },
): ActivePolicy {
  const { origin, previous } = options;
  const policy = parsePolicy(stored.doc, origin);
  if (policy.name !== stored.name) {
    throw new MaskerError('MASKER_POLICY_INVALID', `${origin}: name: expected "${stored.name}", found "${policy.name}"`);
  }
  const sha256 = sha256Of(stored.doc);
  if (sha256 !== stored.sha256) {
    throw new MaskerError('MASKER_POLICY_INVALID', `${origin}: sha256: the stored digest does not match the document (written outside masker?)`);
  }
  assertPolicySignature(stored.doc, stored.signature, options.verifyKey, origin);
  if (previous !== undefined && previous.name === stored.name) {
    if (stored.version < previous.version || (stored.version === previous.version && sha256 !== previous.sha256)) {
      throw new MaskerError('MASKER_POLICY_INVALID',
        `${origin}: version ${stored.version} (sha256 ${sha256.slice(0, 12)}) would replace applied version ${previous.version} (sha256 ${previous.sha256.slice(0, 12)}); versions only go up (use rollback)`);
    }
  }
  const ruleNames = new Set(policy.rules.map((r) => r.name));
  const disabledRules = new Set([...toggles].filter(([rule, s]) => s === 'off' && ruleNames.has(rule)).map(([rule]) => rule));
  return { name: stored.name, version: stored.version, sha256, policy, disabledRules };
}
