import { encodeAuditEvent } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import { MaskerError } from '../errors.js';
import type { InboundRecord, OutboundMessage } from '../kafka/transactional-loop.js';
import type { KeyRing } from '../masking/keys.js';
import type { Logger } from '../observability/logger.js';
import type { MaskerMetrics } from '../observability/metrics.js';
import type { PolicyProvider } from '../policy/active-policy.js';
import type { SchemaGuard } from '../policy/schema-guard.js';
import type { SchemaLookup } from '../registry/schema-cache.js';
import { RecordProcessor, type ProcessorSettings } from './record-processor.js';

export interface RouteHandlerOptions {
  readonly route: Route;
  readonly lookup: SchemaLookup;
  readonly keys: KeyRing;
  readonly policies: PolicyProvider;
  readonly auditTopic: string;
  readonly quarantineTopic: string;
  readonly settings: ProcessorSettings;
  readonly logger: Logger;
  readonly metrics?: MaskerMetrics;
  /** The schema-change guard (absent: every leaf of every writer schema counts as approved). */
  readonly schemaGuard?: SchemaGuard;
  /** Told how many records of each handled chunk were quarantined (the worker's status line). */
  readonly onQuarantined?: (count: number) => void;
}

/**
 * Masks the records of one route: each source record yields its target (or quarantine) message and its
 * audit event, in source order. The policy is read once per chunk, so a live policy swap lands between
 * transactions, never inside one.
 */
export class RouteHandler {
  private readonly processor: RecordProcessor;
  private readonly log: Logger;

  constructor(private readonly options: RouteHandlerOptions) {
    this.processor = new RecordProcessor(options.route, options.lookup, options.keys, options.settings, options.schemaGuard?.forRoute(options.route));
    this.log = options.logger.child({ route: options.route.name });
  }

  get route(): Route {
    return this.options.route;
  }

  async handle(records: readonly InboundRecord[]): Promise<OutboundMessage[]> {
    const { route, auditTopic, quarantineTopic } = this.options;
    const policy = this.options.policies.policyFor(route);
    if (policy === undefined) {
      throw new MaskerError('MASKER_POLICY_MISSING', `route ${route.name}: policy "${route.policy}" is not loaded; consuming nothing`);
    }
    const metrics = this.options.metrics;
    metrics?.recordsIn.inc({ route: route.name }, records.length);
    metrics?.policyVersion.set({ policy: policy.name }, policy.version);
    const out: OutboundMessage[] = [];
    // Counted per chunk, then added once: prom-client's labelled inc costs more than masking a field.
    let masked = 0;
    let quarantined = 0;
    const byAction = new Map<string, number>();
    const auditKey = Buffer.from(route.name);
    // The registry, the schema guard and plan compilation once per distinct writer schema; then pure masking.
    const chunk = await this.processor.prepare(records, policy);
    for (const record of records) {
      const result = this.processor.mask(record, chunk);
      if (result.target !== undefined) {
        // Same partition as the source: the target was created with the source's partition count, so
        // per-partition order (and so per-key order) carries over exactly.
        out.push({ topic: route.target.topic, partition: record.partition, cluster: 'target', ...result.target });
        masked += 1;
        if (metrics !== undefined && result.audit.type === 'record') {
          for (const field of result.audit.fields) byAction.set(field.action, (byAction.get(field.action) ?? 0) + 1);
        }
      }
      if (result.quarantine !== undefined) {
        // Raw records never leave the source cluster.
        out.push({ topic: quarantineTopic, cluster: 'source', ...result.quarantine });
        quarantined += 1;
        const error = result.audit.type === 'record' ? result.audit.error : undefined;
        metrics?.recordsQuarantined.inc({ route: route.name, code: error?.code ?? 'unknown' });
        this.log.error(
          { partition: record.partition, offset: record.offset, code: error?.code, reason: error?.message },
          'record quarantined: it will not reach the target topic',
        );
      }
      if (metrics !== undefined && result.audit.type === 'record' && result.audit.detections !== undefined) {
        for (const d of result.audit.detections) {
          for (const detector of d.detectors) metrics.untaggedPii.inc({ route: route.name, field: d.path, detector, outcome: d.outcome });
        }
      }
      out.push({ topic: auditTopic, cluster: 'target', key: auditKey, value: encodeAuditEvent(result.audit) });
    }
    if (quarantined > 0) this.options.onQuarantined?.(quarantined);
    if (metrics !== undefined) {
      if (masked > 0) metrics.recordsOut.inc({ route: route.name }, masked);
      for (const [action, count] of byAction) metrics.maskedFields.inc({ route: route.name, action }, count);
    }
    return out;
  }
}
