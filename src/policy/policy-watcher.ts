import { randomUUID, type KeyObject } from 'node:crypto';
import { AUDIT_SCHEMA_VERSION, type PolicyAuditEvent } from '../audit/audit-event.js';
import { describeError, isMaskerError, MaskerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ActivePolicy, PolicyProvider } from './active-policy.js';
import { activatePolicy, fingerprintOf } from './policy-candidate.js';
import type { PolicySource, PolicySubscription, RouteRef } from './policy-source.js';
import { CoalescedRefresh } from './coalesced-refresh.js';

export interface PolicyWatcherOptions {
  /** Where policies come from (Redis, or a folder). */
  readonly source: PolicySource;
  /** Routes served; policyFor() answers only for these. */
  readonly routes: readonly RouteRef[];
  /** Ed25519 public key (MASKER_POLICY_VERIFY_KEY). When set, unsigned or badly signed policies are refused. */
  readonly verifyKey?: KeyObject;
  /** Poll interval, also the catch-up for missed notices. Default 5000 ms; 0 disables polling. */
  readonly pollIntervalMs?: number;
  /** `policy-applied` / `policy-rejected` audit events (one per route and change; never key material). */
  readonly onEvent?: (event: PolicyAuditEvent) => void;
  readonly logger?: Logger;
  /** Whether stop() closes the source. Default true. */
  readonly closeSource?: boolean;
  /** Clock for event times. Default `new Date()`. */
  readonly now?: () => Date;
}

type Candidate =
  | { readonly ok: true; readonly fingerprint: string; readonly active: ActivePolicy }
  | { readonly ok: false; readonly fingerprint: string; readonly version: number; readonly sha256: string; readonly error: { code: string; message: string } };

interface Waiter {
  readonly settle: () => boolean;
  readonly fail: (err: Error) => void;
}

/**
 * Keeps each route's policy in memory and current. On start it loads the policy of every route; then it
 * listens for change notices (when the source has them) AND polls, so notices missed across a reconnect
 * are caught. Each new candidate is validated, signature-checked and swapped in atomically (one Map
 * replaced at the end of a pass); a refused candidate leaves the route on its last-known-good policy
 * and yields one `policy-rejected` event. While the store is unreachable nothing changes and
 * {@link policyFor} keeps answering from memory. A route that never got a policy gets `undefined`.
 */
export class PolicyWatcher implements PolicyProvider {
  private readonly options: PolicyWatcherOptions;
  private readonly pollIntervalMs: number;
  private active: ReadonlyMap<string, ActivePolicy> = new Map();
  /** Route → fingerprint of what it runs now, or of the last refusal reported for it. */
  private readonly appliedFp = new Map<string, string>();
  private readonly reportedFp = new Map<string, string>();
  /** Policy name → last candidate evaluated (good or bad), so an unchanged store costs no validation. */
  private readonly lastCandidate = new Map<string, Candidate>();
  private subscription: PolicySubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly refresher = new CoalescedRefresh(() => this.refreshOnce(), () => this.stopped);
  private outage = false;
  private readonly waiters = new Set<Waiter>();
  private readonly eventListeners = new Set<(event: PolicyAuditEvent) => void>();
  /** Route → the policy a store override names (absent: the route follows its route file), as last logged. */
  private readonly overrides = new Map<string, string>();

  constructor(options: PolicyWatcherOptions) {
    this.options = options;
    this.pollIntervalMs = options.pollIntervalMs ?? 5000;
  }

  /**
   * Subscribes, loads every route's policy, starts polling. Rejects (after cleaning up) when the store
   * cannot be reached at all; a route whose policy is missing or refused simply has none (see policyFor).
   */
  async start(): Promise<void> {
    try {
      if (this.options.source.subscribe !== undefined) {
        this.subscription = await this.options.source.subscribe({
          onUpdate: () => this.trigger(),
          onReconnect: () => this.trigger(),
        });
      }
      await this.refresh();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.schedule();
  }

  policyFor(route: { readonly name: string; readonly policy: string }): ActivePolicy | undefined {
    return this.active.get(route.name);
  }

  /** One catch-up pass now (coalesced with a pass in flight). Rejects when the store is unreachable. */
  refresh(): Promise<void> {
    return this.refresher.run();
  }

  /** Resolves when some route runs `name` at `version` or later; rejects after `timeoutMs`. */
  waitForVersion(name: string, version: number, timeoutMs: number): Promise<ActivePolicy> {
    const find = (): ActivePolicy | undefined => [...this.active.values()].find((p) => p.name === name && p.version >= version);
    return this.waitUntil(find, timeoutMs, `policy ${name} version ≥ ${version}`);
  }

  /** Resolves with the next event matching `predicate`; rejects after `timeoutMs`. Register before acting. */
  waitForEvent(predicate: (event: PolicyAuditEvent) => boolean, timeoutMs: number): Promise<PolicyAuditEvent> {
    let seen: PolicyAuditEvent | undefined;
    const listener = (event: PolicyAuditEvent): void => {
      if (seen === undefined && predicate(event)) seen = event;
    };
    this.eventListeners.add(listener);
    return this.waitUntil(() => seen, timeoutMs, 'a matching policy event').finally(() => this.eventListeners.delete(listener));
  }

  /** Stops polling, closes the subscription (and the source unless closeSource: false). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const w of this.waiters) w.fail(new MaskerError('MASKER_POLICY_MISSING', 'policy watcher stopped'));
    this.waiters.clear();
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
    if (this.options.closeSource ?? true) await this.options.source.close();
    await this.refresher.settled();
  }

  private trigger(): void {
    if (this.stopped) return;
    void this.refresh().catch((err: unknown) => this.reportOutage(err));
  }

  private schedule(): void {
    if (this.stopped || this.pollIntervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((err: unknown) => this.reportOutage(err))
        .finally(() => this.schedule());
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  private reportOutage(err: unknown): void {
    if (this.stopped) return;
    if (!(isMaskerError(err) && err.code === 'MASKER_REDIS_UNAVAILABLE')) {
      this.options.logger?.error({ error: describeError(err) }, 'policy refresh failed: serving last-known-good policies');
    } else if (!this.outage) {
      this.outage = true;
      this.options.logger?.warn({ error: describeError(err), store: this.options.source.description },
        'policy store unreachable: serving last-known-good policies, will catch up on reconnect');
    }
  }

  private async refreshOnce(): Promise<void> {
    const { source, routes } = this.options;
    const nameOf = new Map<string, string>();
    for (const route of routes) nameOf.set(route.name, await source.policyNameFor(route));
    if (!this.stopped) this.reportOverrides(nameOf);
    const candidates = new Map<string, Candidate>();
    for (const name of new Set(nameOf.values())) candidates.set(name, await this.evaluate(name));
    if (this.stopped) return;
    if (this.outage) {
      this.outage = false;
      this.options.logger?.info({ store: source.description }, 'policy store reachable again');
    }

    const next = new Map(this.active);
    const events: PolicyAuditEvent[] = [];
    for (const route of routes) {
      const candidate = candidates.get(nameOf.get(route.name) ?? route.policy);
      if (candidate === undefined) continue;
      if (candidate.ok) {
        this.reportedFp.delete(route.name);
        if (this.appliedFp.get(route.name) === candidate.fingerprint) continue;
        next.set(route.name, candidate.active);
        this.appliedFp.set(route.name, candidate.fingerprint);
        events.push(this.event('policy-applied', route.name, { ...candidate.active, disabledRules: [...candidate.active.disabledRules].sort() }));
      } else if (this.reportedFp.get(route.name) !== candidate.fingerprint) {
        this.reportedFp.set(route.name, candidate.fingerprint);
        const name = nameOf.get(route.name) ?? route.policy;
        events.push(this.event('policy-rejected', route.name, { name, version: candidate.version, sha256: candidate.sha256 }, candidate.error));
      }
    }
    this.active = next; // the atomic swap: policyFor sees the old map or the new one, never a mix
    for (const event of events) this.emit(event);
    for (const w of [...this.waiters]) if (w.settle()) this.waiters.delete(w);
  }

  /**
   * A run-time override (Redis `<prefix>:route:<route>:policy`) wins over the route file: say so at warn,
   * once per change (and at info when it is gone), so a leftover override is never silent.
   */
  private reportOverrides(nameOf: ReadonlyMap<string, string>): void {
    const log = this.options.logger;
    for (const route of this.options.routes) {
      const now = nameOf.get(route.name) ?? route.policy;
      const override = now === route.policy ? undefined : now;
      const before = this.overrides.get(route.name);
      if (override === before) continue;
      if (override === undefined) {
        this.overrides.delete(route.name);
        log?.info({ route: route.name, policy: route.policy }, 'route policy override removed: the route uses its route file\'s policy again');
      } else {
        this.overrides.set(route.name, override);
        log?.warn({ route: route.name, routeFilePolicy: route.policy, overridePolicy: override, store: this.options.source.description },
          `route policy overridden in the store: route ${route.name} uses ${override}, not ${route.policy} from its route file (masker policy route ${route.name} --clear removes the override)`);
      }
    }
  }

  /** Reads and checks one policy. Store outages propagate (the pass is abandoned, nothing changes). */
  private async evaluate(name: string): Promise<Candidate> {
    const { source } = this.options;
    const origin = `${source.description}: policy ${name}`;
    let stored;
    let toggles;
    try {
      stored = await source.get(name);
      toggles = stored === undefined ? new Map() : await source.toggles(name);
    } catch (err) {
      // A corrupt entry or an unusable name (e.g. a route override naming "x:y") is a refusal; outages propagate.
      if (isMaskerError(err) && err.code !== 'MASKER_REDIS_UNAVAILABLE') {
        return { ok: false, fingerprint: `unreadable|${err.message}`, version: 0, sha256: '', error: describeError(err) };
      }
      throw err;
    }
    if (stored === undefined) {
      return {
        ok: false, fingerprint: 'missing', version: 0, sha256: '',
        error: { code: 'MASKER_POLICY_MISSING', message: `${origin}: not found` },
      };
    }
    const fingerprint = fingerprintOf(stored, toggles);
    const last = this.lastCandidate.get(name);
    if (last?.fingerprint === fingerprint) return last;
    const previous = last?.ok === true ? last.active : this.lastGood(name);
    let candidate: Candidate;
    try {
      const active = activatePolicy(stored, toggles, { origin: `${origin} v${stored.version}`, verifyKey: this.options.verifyKey, previous });
      candidate = { ok: true, fingerprint, active };
    } catch (err) {
      candidate = { ok: false, fingerprint, version: stored.version, sha256: stored.sha256, error: describeError(err) };
    }
    this.lastCandidate.set(name, candidate);
    return candidate;
  }

  private lastGood(name: string): ActivePolicy | undefined {
    let best: ActivePolicy | undefined;
    for (const p of this.active.values()) if (p.name === name && (best === undefined || p.version > best.version)) best = p;
    return best;
  }

  private event(
    type: PolicyAuditEvent['type'], route: string,
    policy: { name: string; version: number; sha256: string; disabledRules?: readonly string[] }, error?: { code: string; message: string },
  ): PolicyAuditEvent {
    return {
      schema: AUDIT_SCHEMA_VERSION, type, id: randomUUID(), time: (this.options.now?.() ?? new Date()).toISOString(),
      policy: {
        name: policy.name, version: policy.version, sha256: policy.sha256,
        ...(policy.disabledRules === undefined ? {} : { disabledRules: policy.disabledRules }),
      },
      route,
      ...(error === undefined ? {} : { error }),
    };
  }

  private emit(event: PolicyAuditEvent): void {
    const log = this.options.logger;
    if (event.type === 'policy-applied') log?.info({ route: event.route, policy: event.policy }, 'policy applied');
    else log?.warn({ route: event.route, policy: event.policy, error: event.error }, 'policy rejected: keeping last-known-good');
    for (const l of this.eventListeners) l(event);
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      log?.error({ error: describeError(err) }, 'policy event callback failed');
    }
  }

  private waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = probe();
      if (now !== undefined) {
        resolve(now);
        return;
      }
      if (this.stopped) {
        reject(new MaskerError('MASKER_POLICY_MISSING', 'policy watcher stopped'));
        return;
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new MaskerError('MASKER_POLICY_MISSING', `timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        settle: () => {
          const value = probe();
          if (value === undefined) return false;
          clearTimeout(timer);
          resolve(value);
          return true;
        },
        fail: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }
}
