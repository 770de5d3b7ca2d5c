import type { KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MaskerError } from '../errors.js';
import { parsePolicy } from '../masking/index.js';
import { sha256Of } from './file-policy-store.js';
import { diffPolicyDocs, type PolicyDiff } from './policy-diff.js';
import { assertPolicySignature, signPolicyDoc } from './policy-signature.js';
import { assertPolicyName, assertRouteName, assertToggleState, type StoredPolicy, type ToggleState } from './policy-source.js';
import { redisUnavailable } from './redis-client.js';
import { RedisPolicySource } from './redis-policy-source.js';
import { CLEAR_ROUTE_SCRIPT, PUSH_SCRIPT, ROUTE_SCRIPT, TOGGLE_SCRIPT } from './redis-scripts.js';

export interface RedisPolicyAdminOptions {
  /** Connection for reads and writes; the admin never closes it. */
  readonly client: Redis;
  /** Key prefix. Default `masker`. */
  readonly prefix?: string;
  /** Ed25519 private key: push and rollback sign with it. Default: unsigned (an old signature is kept on rollback). */
  readonly signingKey?: KeyObject;
  /** Ed25519 public key: when set, the admin refuses to store what workers with the same key would refuse. */
  readonly verifyKey?: KeyObject;
  /** Clock for `updatedAt`. Default `new Date()`. */
  readonly now?: () => Date;
}

export interface PushResult {
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly signed: boolean;
  /** False when the document and signature equal the current version (nothing written, no notice). */
  readonly changed: boolean;
}

export interface PolicySummary {
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly signed: boolean;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
  /** Rules toggled off. */
  readonly disabledRules: readonly string[];
}

export type DiffSpec =
  | { readonly candidate: unknown; readonly label: string }
  | { readonly from: number; readonly to: number };

/**
 * The write side of the Redis layout (DESIGN.md "Redis layout"). Every change is validated first
 * (parsePolicy), written atomically by a Lua script together with its history entry, and announced on
 * `<prefix>:policy-updates` as `{name, version}`.
 */
export class RedisPolicyAdmin {
  readonly source: RedisPolicySource;
  private readonly client: Redis;
  private readonly signingKey: KeyObject | undefined;
  private readonly verifyKey: KeyObject | undefined;
  private readonly now: () => Date;

  constructor(options: RedisPolicyAdminOptions) {
    this.client = options.client;
    this.source = new RedisPolicySource({ client: options.client, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) });
    this.signingKey = options.signingKey;
    this.verifyKey = options.verifyKey;
    this.now = options.now ?? (() => new Date());
  }

  /** Validates, signs (when a signing key is set) and publishes `doc` as the next version of its policy. */
  async push(input: unknown, options: { readonly by: string; readonly origin: string }): Promise<PushResult> {
    const doc = asJsonDocument(input, options.origin); // what workers will read back is exactly what is hashed and signed
    const policy = parsePolicy(doc, options.origin);
    const signature = this.signingKey === undefined ? undefined : signPolicyDoc(doc, this.signingKey);
    assertPolicySignature(doc, signature, this.verifyKey, options.origin);
    return this.write(policy.name, doc, signature, options.by, true);
  }

  /** Re-publishes version `to` as a NEW, higher version (history is never rewritten). */
  async rollback(name: string, to: number, by: string): Promise<PushResult> {
    const old = await this.show(name, to);
    const origin = `${this.source.keys.policy(name)}@v${to}`;
    const policy = parsePolicy(old.doc, origin);
    if (policy.name !== name) {
      throw new MaskerError('MASKER_POLICY_INVALID', `${origin}: name: expected "${name}", found "${policy.name}"`);
    }
    const signature = this.signingKey === undefined ? old.signature : signPolicyDoc(old.doc, this.signingKey);
    assertPolicySignature(old.doc, signature, this.verifyKey, origin);
    return this.write(name, old.doc, signature, by, true);
  }

  async list(): Promise<PolicySummary[]> {
    const out: PolicySummary[] = [];
    for (const name of await this.source.names()) {
      const stored = await this.source.get(name);
      if (stored === undefined) continue; // deleted meanwhile
      const toggles = await this.source.toggles(name);
      out.push({
        name,
        version: stored.version,
        sha256: stored.sha256,
        signed: stored.signature !== undefined,
        ...(stored.updatedAt === undefined ? {} : { updatedAt: stored.updatedAt }),
        ...(stored.updatedBy === undefined ? {} : { updatedBy: stored.updatedBy }),
        disabledRules: [...toggles].filter(([, s]) => s === 'off').map(([rule]) => rule).sort(),
      });
    }
    return out;
  }

  /** The current version, or version `version` from the history. MASKER_POLICY_MISSING when absent. */
  async show(name: string, version?: number): Promise<StoredPolicy> {
    const current = await this.source.get(name);
    if (current === undefined) throw new MaskerError('MASKER_POLICY_MISSING', `policy "${name}" is not in ${this.source.description}`);
    if (version === undefined || version === current.version) return current;
    const old = (await this.source.history(name)).find((p) => p.version === version);
    if (old === undefined) {
      throw new MaskerError('MASKER_POLICY_MISSING', `policy "${name}" has no version ${version} (current: ${current.version})`);
    }
    return old;
  }

  history(name: string): Promise<StoredPolicy[]> {
    return this.source.history(name);
  }

  /** Diff of the current version against a candidate document, or between two stored versions. */
  async diff(name: string, spec: DiffSpec): Promise<PolicyDiff> {
    if ('candidate' in spec) {
      const current = await this.show(name);
      return diffPolicyDocs(current.doc, spec.candidate, { from: `${name}@v${current.version}`, to: spec.label });
    }
    const [from, to] = [await this.show(name, spec.from), await this.show(name, spec.to)];
    return diffPolicyDocs(from.doc, to.doc, { from: `${name}@v${from.version}`, to: `${name}@v${to.version}` });
  }

  /** Turns a rule of the current version on or off. Refuses rule names the policy does not have. */
  async toggle(policyName: string, rule: string, state: ToggleState): Promise<{ name: string; version: number }> {
    assertToggleState(state);
    const current = await this.show(policyName);
    const rules = parsePolicy(current.doc, `${this.source.keys.policy(policyName)}@v${current.version}`).rules.map((r) => r.name);
    if (!rules.includes(rule)) {
      throw new MaskerError('MASKER_INPUT', `policy "${policyName}" v${current.version} has no rule "${rule.slice(0, 80)}" (rules: ${rules.join(', ')})`);
    }
    const keys = this.source.keys;
    const version = await this.evalNumber(TOGGLE_SCRIPT, [keys.policy(policyName), keys.toggles(policyName)], [rule, state, keys.updates, policyName], 'toggle');
    if (version === 0) throw new MaskerError('MASKER_POLICY_MISSING', `policy "${policyName}" was deleted meanwhile`);
    return { name: policyName, version };
  }

  /** Points a route at a policy that exists in Redis (`<prefix>:route:<route>:policy`). */
  async setRoutePolicy(route: string, policyName: string): Promise<{ name: string; version: number }> {
    assertRouteName(route);
    assertPolicyName(policyName);
    const keys = this.source.keys;
    const version = await this.evalNumber(ROUTE_SCRIPT, [keys.route(route), keys.policy(policyName)], [policyName, keys.updates], 'route');
    if (version === 0) {
      throw new MaskerError('MASKER_POLICY_MISSING', `policy "${policyName}" is not in ${this.source.description}; push it before pointing route ${route} at it`);
    }
    return { name: policyName, version };
  }

  /**
   * Removes a route's override (`<prefix>:route:<route>:policy`): the route follows its route file's policy
   * (`filePolicy`) again. Returns the policy the override named, or undefined when there was none.
   */
  async clearRoutePolicy(route: string, filePolicy: string): Promise<{ cleared: string | undefined }> {
    assertRouteName(route);
    const keys = this.source.keys;
    let reply: unknown;
    try {
      reply = await this.client.eval(CLEAR_ROUTE_SCRIPT, 2, keys.route(route), keys.policy(filePolicy), keys.updates, filePolicy);
    } catch (err) {
      throw redisUnavailable(err, 'clear route');
    }
    return { cleared: typeof reply === 'string' && reply !== '' ? reply : undefined };
  }

  /** The policy a route's override names now, or undefined when the route follows its route file. */
  async routeOverride(route: string): Promise<string | undefined> {
    const key = this.source.keys.route(route);
    let value: string | null;
    try {
      value = await this.client.get(key);
    } catch (err) {
      throw redisUnavailable(err, `GET ${key}`);
    }
    return value === null || value === '' ? undefined : value;
  }

  private async write(name: string, doc: unknown, signature: string | undefined, by: string, skipIfSame: boolean): Promise<PushResult> {
    const keys = this.source.keys;
    const sha256 = sha256Of(doc);
    let reply: unknown;
    try {
      reply = await this.client.eval(PUSH_SCRIPT, 2, keys.policy(name), keys.history(name),
        JSON.stringify(doc), sha256, signature ?? '', this.now().toISOString(), by.slice(0, 200), keys.updates, name,
        skipIfSame ? '1' : '0');
    } catch (err) {
      throw redisUnavailable(err, `push ${keys.policy(name)}`);
    }
    const [version, changed] = Array.isArray(reply) ? reply.map(Number) : [];
    if (version === undefined || version < 1) {
      throw new MaskerError('MASKER_POLICY_INVALID', `${keys.policy(name)}: stored version is not a positive integer; fix or delete the key`);
    }
    return { name, version, sha256, signed: signature !== undefined, changed: changed === 1 };
  }

  private async evalNumber(script: string, keys: string[], args: string[], what: string): Promise<number> {
    try {
      return Number(await this.client.eval(script, keys.length, ...keys, ...args));
    } catch (err) {
      throw redisUnavailable(err, what);
    }
  }
}

function asJsonDocument(input: unknown, origin: string): unknown {
  try {
    return JSON.parse(JSON.stringify(input)) as unknown;
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${origin}: cannot be represented as JSON`, { cause });
  }
}
