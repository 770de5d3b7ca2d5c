import type { Type } from 'avsc';
import { MaskerError } from '../errors.js';
import type { Envelope } from './discovery.js';
import type { CompiledPlan } from './compiled-plan.js';
import { compilePlan } from './plan.js';
import type { Policy } from './policy.js';

/** What the cache needs of a writer schema (the registry's ResolvedSchema fits). */
export interface PlanSchema {
  readonly id: number;
  readonly type: Type;
  /** Raw schema JSON: tags and logical types are only there. */
  readonly json: unknown;
}

/** What the cache needs of a policy in force (the policy layer's ActivePolicy fits). */
export interface PlanPolicy {
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly policy: Policy;
  readonly disabledRules: ReadonlySet<string>;
}

/** A compiled plan, or the plan error every record of that (schema, policy, envelope) gets: fail closed. */
export type PlanEntry = { readonly ok: true; readonly plan: CompiledPlan } | { readonly ok: false; readonly error: MaskerError };

/**
 * Compile once, run many: plans cached per (schema id, policy name + sha256 + toggles, envelope). A policy
 * change (new sha256 or toggles) makes a new key; old entries age out. A schema whose plan cannot be
 * compiled is cached as failing, so its records fail closed without recompiling. Bounded: when full, the
 * oldest entry goes. Used by the stream workers and the HTTP API alike.
 */
export class PlanCache {
  private readonly entries = new Map<string, PlanEntry>();

  constructor(private readonly maxEntries = 1024) {}

  /** `heldPaths`: the schema's leaves not approved yet (PlanOptions.heldPaths); part of the cache key. */
  get(schema: PlanSchema, policy: PlanPolicy, envelope: Envelope, heldPaths: ReadonlySet<string> = NONE_HELD): PlanEntry {
    const held = heldPaths.size === 0 ? '' : [...heldPaths].sort().join(',');
    const key = `${schema.id}|${policy.name}|${policy.sha256}|${[...policy.disabledRules].sort().join(',')}|${envelope}|${held}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = compile(schema, policy, envelope, heldPaths);
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(key, entry);
    }
    return entry;
  }
}

const NONE_HELD: ReadonlySet<string> = new Set();

function compile(schema: PlanSchema, policy: PlanPolicy, envelope: Envelope, heldPaths: ReadonlySet<string>): PlanEntry {
  try {
    const plan = compilePlan(schema.type, policy.policy, {
      envelope,
      heldPaths,
      disabledRules: policy.disabledRules,
      policyVersion: policy.version,
      schemaJson: schema.json,
    });
    return { ok: true, plan };
  } catch (err) {
    const error = err instanceof MaskerError
      ? err
      : new MaskerError('MASKER_PLAN', `schema id ${schema.id}: policy ${policy.name} v${policy.version} cannot be compiled`);
    return { ok: false, error };
  }
}

/** `debezium` when the top-level record has `before`, `after` and `op` fields, else `none` (`--envelope auto`). */
export function detectEnvelope(schemaJson: unknown): Envelope {
  if (typeof schemaJson !== 'object' || schemaJson === null || Array.isArray(schemaJson)) return 'none';
  const fields = (schemaJson as { fields?: unknown }).fields;
  if (!Array.isArray(fields)) return 'none';
  const names = new Set(fields.map((f: unknown) => (typeof f === 'object' && f !== null ? (f as { name?: unknown }).name : undefined)));
  return names.has('before') && names.has('after') && names.has('op') ? 'debezium' : 'none';
}
