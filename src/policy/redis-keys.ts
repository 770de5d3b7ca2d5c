import { assertPolicyName, assertRouteName } from './policy-source.js';

/** Default key prefix (DESIGN.md "Redis layout"). Tests use a unique prefix per test. */
export const DEFAULT_PREFIX = 'masker';

/**
 * Key names of the Redis layout. Names are validated before they become part of a key, so a policy can
 * never be named e.g. `x:history` and collide with another key.
 */
export class RedisKeys {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {}

  /** Hash: version, doc, sha256, signature, updatedAt, updatedBy. */
  policy(name: string): string {
    assertPolicyName(name);
    return `${this.prefix}:policy:${name}`;
  }

  /** List of earlier versions (JSON entries), newest first. */
  history(name: string): string {
    return `${this.policy(name)}:history`;
  }

  /** String: the policy a route uses now. */
  route(route: string): string {
    assertRouteName(route);
    return `${this.prefix}:route:${route}:policy`;
  }

  /** Hash: rule name → on/off. */
  toggles(policy: string): string {
    assertPolicyName(policy);
    return `${this.prefix}:toggles:${policy}`;
  }

  /** Pub/sub channel: `{name, version}` on every change. */
  get updates(): string {
    return `${this.prefix}:policy-updates`;
  }

  /** SCAN pattern matching every policy hash (and its history list, filtered out by {@link policyNameOf}). */
  get policyPattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}:policy:*`;
  }

  /** The policy name of a policy hash key, or undefined for any other key (history lists). */
  policyNameOf(key: string): string | undefined {
    const head = `${this.prefix}:policy:`;
    if (!key.startsWith(head)) return undefined;
    const rest = key.slice(head.length);
    return /^[a-z0-9][a-z0-9-]{0,62}$/.test(rest) ? rest : undefined;
  }
}
