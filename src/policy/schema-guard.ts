import { randomUUID } from 'node:crypto';
import { AUDIT_SCHEMA_VERSION, type SchemaAuditEvent } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import { describeError, isMaskerError } from '../errors.js';
import type { NewFieldsMode, PlanSchema } from '../masking/index.js';
import type { Logger } from '../observability/logger.js';
import { CoalescedRefresh } from './coalesced-refresh.js';
import {
  BASELINE_APPROVER, newLeafPaths, schemaLeafPaths, sourceSubject,
  type ApprovalSubscription, type ApprovedSchema, type SchemaApprovalStore, type SubjectPart,
} from './schema-approvals.js';

/** The part of a route the guard needs. */
export type GuardedRoute = Pick<Route, 'name' | 'source' | 'key' | 'envelope'>;

export interface SchemaGuardOptions {
  readonly store: SchemaApprovalStore;
  readonly routes: readonly GuardedRoute[];
  /** How often approvals are re-read (also the catch-up for missed notices). Default 5000 ms; 0: never. */
  readonly pollIntervalMs?: number;
  /** schema-held / schema-approved (baseline) events, each emitted by the one worker whose write recorded it. */
  readonly onEvent?: (event: SchemaAuditEvent) => void;
  readonly logger?: Logger;
  /** Whether stop() closes the store. Default true. */
  readonly closeStore?: boolean;
  /** Clock. Default `new Date()`. */
  readonly now?: () => Date;
}

/** What a record processor asks of the guard for its route. */
export interface RouteSchemaGuard {
  /** The held leaf paths of a writer schema already met: a Map lookup, for every record. */
  held(part: SubjectPart, schemaId: number): ReadonlySet<string> | undefined;
  /**
   * First record of a writer schema id (or after it was forgotten): computes its held paths once, recording
   * a baseline (the subject's first schema) or a pending entry (new leaves) in the store. Store outages
   * reject with MASKER_REDIS_UNAVAILABLE (the batch is retried).
   */
  resolve(part: SubjectPart, schema: PlanSchema, newFields: NewFieldsMode): Promise<ReadonlySet<string>>;
}

const NONE: ReadonlySet<string> = new Set();

/** One route and subject: its approved schemas and the held paths of every writer schema met. */
class SubjectState {
  private approvedIds = new Set<number>();
  private union = new Set<string>();
  private fingerprint = '';
  /** Leaf paths of each writer schema met (undefined: the schema does not fit the envelope). */
  private readonly leaves = new Map<number, readonly string[] | undefined>();
  readonly held = new Map<number, ReadonlySet<string>>();
  readonly resolving = new Map<number, Promise<ReadonlySet<string>>>();

  get hasApproved(): boolean {
    return this.approvedIds.size > 0;
  }

  /** Replaces the approved set; returns the schema ids whose held paths shrank. */
  setApproved(approved: readonly ApprovedSchema[]): number[] {
    const fingerprint = approved.map((a) => a.schemaId).sort((a, b) => a - b).join(',');
    if (fingerprint === this.fingerprint) return [];
    this.fingerprint = fingerprint;
    this.approvedIds = new Set(approved.map((a) => a.schemaId));
    this.union = new Set(approved.flatMap((a) => a.paths));
    const released: number[] = [];
    for (const id of this.leaves.keys()) {
      const before = this.held.get(id)?.size ?? 0;
      const now = this.recompute(id);
      if (now.size < before) released.push(id);
    }
    return released;
  }

  /** Remembers a writer schema's leaves and sets its held paths against the approved set now. */
  remember(id: number, leaves: readonly string[] | undefined): ReadonlySet<string> {
    this.leaves.set(id, leaves);
    return this.recompute(id);
  }

  heldNow(leaves: readonly string[]): string[] {
    return newLeafPaths(leaves, [{ paths: [...this.union] }]);
  }

  private recompute(id: number): ReadonlySet<string> {
    const leaves = this.leaves.get(id);
    const held = leaves === undefined || this.approvedIds.has(id) ? NONE : new Set(this.heldNow(leaves));
    const next = held.size === 0 ? NONE : held;
    this.held.set(id, next);
    return next;
  }
}

/**
 * The schema-change guard of a worker: for every route and subject, which leaves of each writer schema no
 * approved schema had (`heldPaths` for the plan). Computed once per (route, subject, schema id) and kept in
 * memory; the store is read at start, on the first record of a schema id, and when approvals change:
 * change notices (Redis) AND a poll (missed notices; the approvals file's mtime). A change swaps the held
 * sets in place, so the next record compiles (and caches) a plan with the new set.
 */
export class SchemaGuard {
  private readonly options: SchemaGuardOptions;
  private readonly states = new Map<string, Map<SubjectPart, SubjectState>>();
  private subscription: ApprovalSubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly refresher = new CoalescedRefresh(() => this.refreshOnce(), () => this.stopped);
  private outage = false;
  private readonly listeners = new Set<() => void>();

  constructor(options: SchemaGuardOptions) {
    this.options = options;
    for (const route of options.routes) {
      const parts: SubjectPart[] = route.key === 'mask' ? ['value', 'key'] : ['value'];
      this.states.set(route.name, new Map(parts.map((p) => [p, new SubjectState()])));
    }
  }

  /** Subscribes (when the store has notices), reads every route's approvals, starts polling. Rejects when the store is unreachable. */
  async start(): Promise<void> {
    try {
      if (this.options.store.subscribe !== undefined) {
        this.subscription = await this.options.store.subscribe({
          onChange: () => this.trigger(),
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

  /** The guard of one route (its processor keeps it). */
  forRoute(route: GuardedRoute): RouteSchemaGuard {
    const states = this.states.get(route.name);
    if (states === undefined) throw new Error(`schema guard: route ${route.name} is not guarded`);
    const state = (part: SubjectPart): SubjectState => {
      const s = states.get(part);
      if (s === undefined) throw new Error(`schema guard: route ${route.name} has no ${part} subject`);
      return s;
    };
    return {
      held: (part, schemaId) => states.get(part)?.held.get(schemaId),
      resolve: (part, schema, newFields) => {
        const s = state(part);
        let pending = s.resolving.get(schema.id);
        if (pending === undefined) {
          pending = this.resolve(route, part, s, schema, newFields).finally(() => s.resolving.delete(schema.id));
          s.resolving.set(schema.id, pending);
        }
        return pending;
      },
    };
  }

  /** One catch-up pass now (coalesced with one in flight). Rejects when the store is unreachable. */
  refresh(): Promise<void> {
    return this.refresher.run();
  }

  /** Calls `listener` after every pass that changed a held set (tests wait on it). Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
    await this.refresher.settled();
    if (this.options.closeStore ?? true) await this.options.store.close();
  }

  private async resolve(route: GuardedRoute, part: SubjectPart, state: SubjectState, schema: PlanSchema, newFields: NewFieldsMode): Promise<ReadonlySet<string>> {
    const already = state.held.get(schema.id);
    if (already !== undefined) return already;
    const envelope = part === 'value' ? route.envelope : 'none';
    let leaves: string[];
    try {
      leaves = schemaLeafPaths(schema.type, schema.json, envelope);
    } catch (err) {
      // The plan cannot be compiled for it either: its records fail closed there, with the reason.
      if (isMaskerError(err)) return state.remember(schema.id, undefined);
      throw err;
    }
    const { store } = this.options;
    const subject = sourceSubject(route, part);
    const at = this.now().toISOString();
    await this.reloadRoute(route.name); // a new schema id is rare: compare it with the approvals as they are now
    if (!state.hasApproved) {
      if (await store.recordBaseline({ route: route.name, subject, schemaId: schema.id, approvedAt: at, paths: leaves })) {
        this.options.logger?.info({ route: route.name, subject, schemaId: schema.id }, 'schema recorded as the baseline of its subject (approved)');
        this.emit({ ...this.eventBase('schema-approved', route.name, subject, schema.id), by: BASELINE_APPROVER });
      }
      await this.reloadRoute(route.name); // ours, or the baseline another worker recorded first
    }
    const held = state.remember(schema.id, leaves);
    if (held.size === 0) return held;
    const newPaths = [...held].sort();
    const result = await store.addPending({ route: route.name, subject, schemaId: schema.id, newPaths, paths: leaves, firstSeen: at });
    if (result === 'added') {
      this.options.logger?.warn({ route: route.name, subject, schemaId: schema.id, newPaths, newFields },
        'schema brings fields no approved schema had: held until `masker schema approve`');
      this.emit({ ...this.eventBase('schema-held', route.name, subject, schema.id), newPaths, newFields });
    } else if (result === 'approved') {
      await this.reloadRoute(route.name); // approved between our read and our write
    }
    return state.held.get(schema.id) ?? held;
  }

  private async refreshOnce(): Promise<void> {
    for (const route of this.states.keys()) {
      if (this.stopped) return;
      await this.reloadRoute(route);
    }
    if (this.outage) {
      this.outage = false;
      this.options.logger?.info({ store: this.options.store.description }, 'schema approvals reachable again');
    }
  }

  /** Re-reads a route's approvals and swaps the held sets of its subjects. */
  private async reloadRoute(routeName: string): Promise<void> {
    const states = this.states.get(routeName);
    const route = this.options.routes.find((r) => r.name === routeName);
    if (states === undefined || route === undefined) return;
    const approved = await this.options.store.approved(routeName);
    let changed = false;
    for (const [part, state] of states) {
      const subject = sourceSubject(route, part);
      const released = state.setApproved(approved.filter((a) => a.subject === subject));
      if (released.length > 0) {
        changed = true;
        this.options.logger?.info({ route: routeName, subject, schemaIds: released }, 'schema approval applied: fewer fields held');
      }
    }
    if (changed) for (const l of this.listeners) l();
  }

  private trigger(): void {
    if (this.stopped) return;
    void this.refresh().catch((err: unknown) => this.reportOutage(err));
  }

  private schedule(): void {
    const every = this.options.pollIntervalMs ?? 5000;
    if (this.stopped || every <= 0) return;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((err: unknown) => this.reportOutage(err))
        .finally(() => this.schedule());
    }, every);
    this.timer.unref();
  }

  private reportOutage(err: unknown): void {
    if (this.stopped) return;
    if (isMaskerError(err) && err.code === 'MASKER_REDIS_UNAVAILABLE') {
      if (!this.outage) {
        this.outage = true;
        this.options.logger?.warn({ error: describeError(err), store: this.options.store.description },
          'schema approvals unreachable: keeping the approvals known; new schema ids wait for the store');
      }
      return;
    }
    this.options.logger?.error({ error: describeError(err), store: this.options.store.description }, 'schema approvals refresh failed: keeping the approvals known');
  }

  private eventBase(type: SchemaAuditEvent['type'], route: string, subject: string, schemaId: number): SchemaAuditEvent {
    return { schema: AUDIT_SCHEMA_VERSION, type, id: randomUUID(), time: this.now().toISOString(), route, subject, schemaId };
  }

  private emit(event: SchemaAuditEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      this.options.logger?.error({ error: describeError(err) }, 'schema event callback failed');
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
