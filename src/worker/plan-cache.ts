import type { FieldAudit } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import { MaskerError } from '../errors.js';
import { compilePlan, maskRecord, type CompiledPlan } from '../masking/index.js';
import type { KeyRing } from '../masking/keys.js';
import type { ActivePolicy } from '../policy/active-policy.js';
import type { ResolvedSchema } from '../registry/schema-cache.js';

/** A compiled plan ready to mask decoded records, or the plan error every record of that schema gets. */
export interface PreparedPlan {
  mask(record: unknown, keys: KeyRing): { value: unknown; fields: readonly FieldAudit[] };
}

/**
 * Compile once, run many: plans are cached per (schema id, policy sha256 + toggles, envelope). A schema
 * whose plan cannot be compiled is cached as failing, so each of its records fails closed (quarantine)
 * without recompiling. The cache is bounded: when full, the oldest entry goes.
 */
export class PlanCache {
  private readonly entries = new Map<string, PreparedPlan>();

  constructor(private readonly maxEntries = 1024) {}

  get(schema: ResolvedSchema, policy: ActivePolicy, envelope: Route['envelope']): PreparedPlan {
    const cacheKey = `${schema.id}|${policy.name}|${policy.sha256}|${[...policy.disabledRules].sort().join(',')}|${envelope}`;
    let prepared = this.entries.get(cacheKey);
    if (prepared === undefined) {
      prepared = prepare(schema, policy, envelope);
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(cacheKey, prepared);
    }
    return prepared;
  }
}

function prepare(schema: ResolvedSchema, policy: ActivePolicy, envelope: Route['envelope']): PreparedPlan {
  let plan: CompiledPlan;
  try {
    plan = compilePlan(schema.type, policy.policy, {
      envelope,
      disabledRules: policy.disabledRules,
      policyVersion: policy.version,
      schemaJson: schema.json,
    });
  } catch (err) {
    const failure = err instanceof MaskerError
      ? err
      : new MaskerError('MASKER_PLAN', `schema id ${schema.id}: policy ${policy.name} v${policy.version} cannot be compiled`, { cause: err });
    return { mask: () => { throw failure; } };
  }
  return { mask: (record, keys) => maskRecord(plan, record, keys) };
}
