import type { Policy } from '../masking/index.js';

/** A validated policy as a worker uses it: the document plus identity for the audit. */
export interface ActivePolicy {
  readonly name: string;
  /** Monotonic version (Redis) or 1 (files). */
  readonly version: number;
  /** SHA-256 (hex) of the canonical JSON document. */
  readonly sha256: string;
  readonly policy: Policy;
  /** Rules switched off by toggles. Their fields fall to `onUnmatchedSensitive`, never to pass-through. */
  readonly disabledRules: ReadonlySet<string>;
}

/** Where a route gets its policy now. Returns undefined when no policy was ever loaded (consume nothing). */
export interface PolicyProvider {
  policyFor(route: { readonly name: string; readonly policy: string }): ActivePolicy | undefined;
}
