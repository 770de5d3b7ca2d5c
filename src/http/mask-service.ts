import type { FieldAudit } from '../audit/audit-event.js';
import { isMaskerError, type MaskerError } from '../errors.js';
import { detectEnvelope, maskRecord, PlanCache, type KeyRing } from '../masking/index.js';
import type { ActivePolicy, PolicyProvider } from '../policy/active-policy.js';
import type { RegistryClient } from '../registry/registry-client.js';
import type { ResolvedSchema, SchemaLookup } from '../registry/schema-cache.js';
import { allowsPolicy, type ApiKeyEntry } from './api-keys.js';
import { checkJsonEncoding, decodeJsonEncoding, encodeJsonEncoding } from './avro-json.js';
import type { MaskRequest } from './mask-request.js';
import { HttpProblem } from './problem.js';

/** The pseudo-route through which the policy provider serves policy `name` to the HTTP API. */
export function httpRouteFor(policy: string): { readonly name: string; readonly policy: string } {
  return { name: `http-${policy}`, policy };
}

export interface MaskServiceOptions {
  readonly registry: Pick<RegistryClient, 'latest'>;
  readonly lookup: SchemaLookup;
  readonly policies: PolicyProvider;
  /** Policy names this server serves (the default, those named in API keys, those in the store at startup). */
  readonly servedPolicies: ReadonlySet<string>;
  /** `--policy`: used when a request names none. */
  readonly defaultPolicy: string;
  readonly keys: KeyRing;
  readonly planCache?: PlanCache;
}

/** What the audit event records about a call; filled in as the call progresses, so rejections say how far it got. */
export interface CallFacts {
  subject: string | null;
  schemaId: number | null;
  policy: { name: string; version: number | null; sha256: string | null } | null;
  fields: readonly FieldAudit[];
}

export interface MaskResponseBody {
  /** The masked record, Avro JSON encoding. */
  readonly record: unknown;
  readonly schemaId: number;
  readonly policy: { readonly name: string; readonly version: number; readonly sha256: string };
  readonly keyId: string;
  readonly fields: readonly FieldAudit[];
}

/**
 * The masking behind `POST /v1/mask`: policy choice and permission, schema from the registry, record
 * check, the same engine and keys as the stream (maskRecord with a plan cached per schema × policy).
 * Every failure is an {@link HttpProblem} whose text holds no record value.
 */
export class MaskService {
  private readonly planCache: PlanCache;

  constructor(private readonly options: MaskServiceOptions) {
    this.planCache = options.planCache ?? new PlanCache();
  }

  /** Id of the masking key in use (audit). */
  keyId(): string {
    return this.options.keys.active.id;
  }

  /** The policy the default route serves now, if any (readiness). */
  defaultPolicy(): ActivePolicy | undefined {
    return this.options.policies.policyFor(httpRouteFor(this.options.defaultPolicy));
  }

  async mask(request: MaskRequest, key: ApiKeyEntry, facts: CallFacts): Promise<MaskResponseBody> {
    const policy = this.resolvePolicy(request.policy ?? this.options.defaultPolicy, key, facts);
    const schema = await this.resolveSchema(request, facts);
    const envelope = request.envelope === 'auto' ? detectEnvelope(schema.json) : request.envelope;

    const problems = checkJsonEncoding(schema.type, request.record, '$.record');
    if (problems.length > 0) {
      throw new HttpProblem('record-invalid', { detail: `the record is not a value of schema id ${schema.id} in Avro JSON encoding`, errors: problems, reason: 'record does not match the schema' });
    }
    let decoded: unknown;
    try {
      decoded = decodeJsonEncoding(schema.type, request.record);
    } catch {
      throw new HttpProblem('record-invalid', { detail: `the record is not a value of schema id ${schema.id} in Avro JSON encoding`, reason: 'record does not decode' });
    }

    const entry = this.planCache.get(schema, policy, envelope);
    if (!entry.ok) throw notMaskable(entry.error);
    let masked: { value: unknown; fields: readonly FieldAudit[] };
    try {
      masked = maskRecord(entry.plan, decoded, this.options.keys);
    } catch (err) {
      throw notMaskable(err);
    }
    facts.fields = masked.fields.map((f) => ({ path: f.path, action: f.action, rule: f.rule }));
    let record: unknown;
    try {
      record = encodeJsonEncoding(schema.type, masked.value);
    } catch {
      throw new HttpProblem('not-maskable', { code: 'MASKER_OUTPUT_INVALID', detail: 'the masked record cannot be encoded', reason: 'MASKER_OUTPUT_INVALID' });
    }
    return {
      record,
      schemaId: schema.id,
      policy: { name: policy.name, version: policy.version, sha256: policy.sha256 },
      keyId: this.options.keys.active.id,
      fields: facts.fields,
    };
  }

  private resolvePolicy(name: string, key: ApiKeyEntry, facts: CallFacts): ActivePolicy {
    facts.policy = { name, version: null, sha256: null };
    // Permission first: a key learns nothing about policies it may not use.
    if (!allowsPolicy(key, name)) throw new HttpProblem('forbidden', { reason: 'policy-not-allowed' });
    if (!this.options.servedPolicies.has(name)) {
      throw new HttpProblem('unknown-policy', { detail: `this server does not serve a policy named ${name}`, reason: 'unknown-policy' });
    }
    const active = this.options.policies.policyFor(httpRouteFor(name));
    if (active === undefined) {
      throw new HttpProblem('policy-unavailable', { detail: `no valid version of policy ${name} is loaded`, headers: { 'retry-after': '5' }, reason: 'policy-not-loaded' });
    }
    facts.policy = { name: active.name, version: active.version, sha256: active.sha256 };
    return active;
  }

  private async resolveSchema(request: MaskRequest, facts: CallFacts): Promise<ResolvedSchema> {
    try {
      let id: number;
      if (request.subject !== undefined) {
        facts.subject = request.subject;
        const latest = await this.options.registry.latest(request.subject);
        if (latest === undefined) throw new HttpProblem('unknown-schema', { detail: 'the registry has no such subject', reason: 'unknown-subject' });
        id = latest.id;
      } else {
        id = request.schemaId;
      }
      facts.schemaId = id;
      return await this.options.lookup.byId(id);
    } catch (err) {
      if (err instanceof HttpProblem || !isMaskerError(err)) throw err;
      if (err.code === 'MASKER_REGISTRY_UNAVAILABLE') {
        throw new HttpProblem('registry-unavailable', { headers: { 'retry-after': '5' }, reason: err.code, cause: err });
      }
      if (err.code === 'MASKER_SCHEMA_NOT_FOUND') {
        throw new HttpProblem('unknown-schema', { detail: 'the registry has no such schema', reason: err.code });
      }
      if (err.code === 'MASKER_DECODE') {
        throw new HttpProblem('unknown-schema', { detail: 'the registered schema is not a valid Avro schema', reason: err.code });
      }
      // Any other registry refusal (e.g. an invalid subject name): the schema cannot be found from this request.
      throw new HttpProblem('unknown-schema', { detail: 'the registry refused the lookup', reason: err.code });
    }
  }
}

/**
 * Plan errors (compile time: rule names, paths and types, no record seen) keep their message; errors raised
 * while masking a record get a fixed text, so nothing derived from the record can come back.
 */
function notMaskable(err: unknown): HttpProblem {
  if (!isMaskerError(err)) {
    return new HttpProblem('not-maskable', { code: 'MASKER_ACTION', detail: 'masking failed', reason: 'MASKER_ACTION' });
  }
  const e: MaskerError = err;
  const compileTime = e.code === 'MASKER_PLAN' || e.code === 'MASKER_UNMATCHED_SENSITIVE';
  const detail = compileTime ? e.message : RECORD_TIME_DETAIL[e.code] ?? 'the record cannot be masked safely';
  return new HttpProblem('not-maskable', { code: e.code, detail, reason: e.code });
}

const RECORD_TIME_DETAIL: Partial<Record<string, string>> = {
  MASKER_ACTION: 'a masking action failed on a field of this record',
  MASKER_RECORD_SHAPE: 'the record does not have the shape of the schema',
  MASKER_OUTPUT_INVALID: 'the masked record would not be valid for the schema',
};
