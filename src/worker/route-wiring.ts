import type { AuditMode } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import type { KeyRing } from '../masking/keys.js';
import type { Logger } from '../observability/logger.js';
import type { MaskerMetrics } from '../observability/metrics.js';
import type { PolicyProvider } from '../policy/active-policy.js';
import type { SchemaGuard } from '../policy/schema-guard.js';
import type { SchemaLookup } from '../registry/schema-cache.js';
import type { RouteHandlerOptions } from './route-handler.js';

/** What every route's {@link RouteHandler} shares, in `masker run` (the worker) and `masker replay` alike. */
export interface RouteWiring {
  readonly lookup: SchemaLookup;
  readonly keys: KeyRing;
  readonly policies: PolicyProvider;
  readonly auditTopic: string;
  readonly quarantineTopic: string;
  /** Records larger than this (key + value bytes) are quarantined. */
  readonly maxRecordBytes: number;
  readonly logger: Logger;
  readonly metrics?: MaskerMetrics;
  /** The schema-change guard, started, covering the routes (absent: no leaf is ever held). */
  readonly schemaGuard?: SchemaGuard;
  /** MASKER_AUDIT: `chunk` (v2, default) or `record` (v1). */
  readonly auditMode?: AuditMode;
}

export interface RouteHandlerExtras {
  /** The consumer group committing the route's chunks (the workers' or a replay run's). */
  readonly groupId?: string;
  /** `masker replay`: audit events are marked `replayed`. Default false. */
  readonly replayed?: boolean;
  readonly onQuarantined?: (count: number) => void;
}

/** The one place a route's handler options are built from the shared wiring. */
export function routeHandlerOptions(wiring: RouteWiring, route: Route, extras: RouteHandlerExtras = {}): RouteHandlerOptions {
  return {
    route,
    lookup: wiring.lookup,
    keys: wiring.keys,
    policies: wiring.policies,
    auditTopic: wiring.auditTopic,
    quarantineTopic: wiring.quarantineTopic,
    settings: extras.replayed === true ? { maxRecordBytes: wiring.maxRecordBytes, replayed: true } : { maxRecordBytes: wiring.maxRecordBytes },
    logger: wiring.logger,
    ...(wiring.metrics === undefined ? {} : { metrics: wiring.metrics }),
    ...(wiring.schemaGuard === undefined ? {} : { schemaGuard: wiring.schemaGuard }),
    ...(extras.onQuarantined === undefined ? {} : { onQuarantined: extras.onQuarantined }),
    ...(wiring.auditMode === undefined ? {} : { auditMode: wiring.auditMode }),
    ...(extras.groupId === undefined ? {} : { groupId: extras.groupId }),
  };
}
