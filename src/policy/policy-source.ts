import { MaskerError } from '../errors.js';

/** A policy document as a store holds it: not yet validated, not yet signature-checked. */
export interface StoredPolicy {
  readonly name: string;
  /** Monotonic version (Redis) or 1 (files). */
  readonly version: number;
  /** The document (parsed JSON/YAML), exactly as stored. */
  readonly doc: unknown;
  /** SHA-256 (hex) of the canonical JSON document, as recorded by the store. */
  readonly sha256: string;
  /** Base64 Ed25519 signature over the canonical JSON bytes; absent when unsigned. */
  readonly signature?: string;
  /** ISO time of the push (Redis only). */
  readonly updatedAt?: string;
  /** Who pushed it (Redis only). */
  readonly updatedBy?: string;
}

export type ToggleState = 'on' | 'off';

/** The part of a route the policy layer needs. */
export interface RouteRef {
  readonly name: string;
  /** The policy named in the route file; a store may override it at run time. */
  readonly policy: string;
}

/** `{name, version}`, published on every change (push, rollback, toggle, route switch). */
export interface PolicyUpdate {
  readonly name: string;
  readonly version: number;
}

export interface PolicySubscription {
  close(): Promise<void>;
}

export interface SubscribeHandlers {
  /** A change notice arrived. Treat it as a hint: always re-read the store. */
  readonly onUpdate: (update: PolicyUpdate) => void;
  /** The subscription (re)connected: notices may have been missed, catch up. */
  readonly onReconnect: () => void;
}

/**
 * The read side of a policy store. Implementations: {@link FilePolicySource} (the policies folder) and
 * {@link RedisPolicySource}. Reads fail with MASKER_REDIS_UNAVAILABLE (retry) when the store is unreachable
 * and MASKER_POLICY_INVALID when a stored entry is unreadable (e.g. `doc` not JSON).
 */
export interface PolicySource {
  /** Human-readable location for messages, never containing credentials. */
  readonly description: string;
  /** The current stored policy, or undefined when no policy has that name. */
  get(name: string): Promise<StoredPolicy | undefined>;
  /** Names of all stored policies, sorted. */
  names(): Promise<string[]>;
  /** The policy the route uses now: a run-time override if the store has one, else `route.policy`. */
  policyNameFor(route: RouteRef): Promise<string>;
  /** Rule toggles of a policy (rule name → on/off). Rules not listed are on. */
  toggles(policy: string): Promise<ReadonlyMap<string, ToggleState>>;
  /** Change notices, when the store can push them (Redis pub/sub). Absent: poll only. */
  subscribe?(handlers: SubscribeHandlers): Promise<PolicySubscription>;
  /** Releases connections the source owns. Idempotent. */
  close(): Promise<void>;
}

/** Policy and route names as DESIGN.md allows them; also keeps Redis key names unambiguous. */
export const POLICY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ROUTE_NAME = /^[a-z0-9-]+$/;

export function assertPolicyName(name: string): void {
  if (!POLICY_NAME.test(name)) {
    throw new MaskerError('MASKER_INPUT', `policy name "${name.slice(0, 80)}": expected 1-63 characters [a-z0-9-]`);
  }
}

export function assertRouteName(name: string): void {
  if (!ROUTE_NAME.test(name)) {
    throw new MaskerError('MASKER_INPUT', `route name "${name.slice(0, 80)}": expected [a-z0-9-]+`);
  }
}

export function assertToggleState(state: string): asserts state is ToggleState {
  if (state !== 'on' && state !== 'off') {
    throw new MaskerError('MASKER_INPUT', `toggle state "${state.slice(0, 20)}": expected on or off`);
  }
}
