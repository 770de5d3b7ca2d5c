import { MaskerError } from '../../../src/errors.js';
import { sha256Of } from '../../../src/policy/file-policy-store.js';
import type { PolicySource, RouteRef, StoredPolicy, ToggleState } from '../../../src/policy/policy-source.js';

/**
 * An in-memory PolicySource for unit tests of the watcher's own logic (outages, swaps). The Redis
 * implementation is tested against a real Redis in test/integration/policy.
 */
export class MemoryPolicySource implements PolicySource {
  readonly description = 'memory';
  readonly policies = new Map<string, StoredPolicy>();
  readonly overrides = new Map<string, string>();
  readonly toggleMap = new Map<string, Map<string, ToggleState>>();
  /** When true every read fails like an unreachable Redis. */
  down = false;
  closed = 0;

  put(doc: Record<string, unknown>, version: number, signature?: string): void {
    const name = String(doc['name']);
    this.policies.set(name, { name, version, doc, sha256: sha256Of(doc), ...(signature === undefined ? {} : { signature }) });
  }

  private check(): void {
    if (this.down) throw new MaskerError('MASKER_REDIS_UNAVAILABLE', 'Redis: connection refused');
  }

  get(name: string): Promise<StoredPolicy | undefined> {
    this.check();
    return Promise.resolve(this.policies.get(name));
  }

  names(): Promise<string[]> {
    this.check();
    return Promise.resolve([...this.policies.keys()].sort());
  }

  policyNameFor(route: RouteRef): Promise<string> {
    this.check();
    return Promise.resolve(this.overrides.get(route.name) ?? route.policy);
  }

  toggles(policy: string): Promise<ReadonlyMap<string, ToggleState>> {
    this.check();
    return Promise.resolve(this.toggleMap.get(policy) ?? new Map());
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}
