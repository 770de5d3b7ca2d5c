import { encodeAuditEvent, PLAN_HEADER, SOURCE_OFFSET_HEADER, type AuditEvent, type AuditMode } from '../audit/audit-event.js';
import type { Route } from '../config/routes.js';
import { MaskerError } from '../errors.js';
import type { InboundRecord, OutboundMessage } from '../kafka/transactional-loop.js';
import type { KeyRing } from '../masking/keys.js';
import type { Logger } from '../observability/logger.js';
import type { MaskerMetrics } from '../observability/metrics.js';
import type { PolicyProvider } from '../policy/active-policy.js';
import type { SchemaGuard } from '../policy/schema-guard.js';
import type { SchemaLookup } from '../registry/schema-cache.js';
import { ChunkAudit, RoutePlans } from './chunk-audit.js';
import { RecordProcessor, type ProcessorSettings, type RecordFacts } from './record-processor.js';

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
  /** The consumer group committing the chunks (named in chunk events): the workers' or a replay run's. */
  readonly groupId?: string;
  /** `chunk` (audit v2, default): one chunk event per transaction, plan events, a lineage header; `record`: v1. */
  readonly auditMode?: AuditMode;
}

/**
 * Masks the records of one route: each source record yields its target (or quarantine) message, in source
 * order, and the chunk its audit: one `chunk` event (plus `plan` events of plans first used) in audit v2, one
 * event per record in `record` mode. The policy is read once per chunk, so a live policy swap lands between
 * transactions, never inside one.
 */
export class RouteHandler {
  private readonly processor: RecordProcessor;
  private readonly log: Logger;
  private readonly auditKey: Buffer;
  /** Audit v2's plans of this route (absent in `record` mode). */
  private readonly plans: RoutePlans | undefined;

  constructor(private readonly options: RouteHandlerOptions) {
    this.processor = new RecordProcessor(options.route, options.lookup, options.keys, options.settings, options.schemaGuard?.forRoute(options.route));
    this.log = options.logger.child({ route: options.route.name });
    this.auditKey = Buffer.from(options.route.name);
    this.plans = options.auditMode === 'record' ? undefined : new RoutePlans(options.route, options.keys.active.id);
  }

  get route(): Route {
    return this.options.route;
  }

  /** Masks one chunk (one partition, in order) into the messages of its transaction. */
  async handle(records: readonly InboundRecord[]): Promise<OutboundMessage[]> {
    const { route, quarantineTopic, metrics } = this.options;
    const policy = this.options.policies.policyFor(route);
    if (policy === undefined) {
      throw new MaskerError('MASKER_POLICY_MISSING', `route ${route.name}: policy "${route.policy}" is not loaded; consuming nothing`);
    }
    metrics?.recordsIn.inc({ route: route.name }, records.length);
    metrics?.policyVersion.set({ policy: policy.name }, policy.version);
    const out: OutboundMessage[] = [];
    const counts = new ChunkCounts();
    const chunkAudit = this.plans === undefined ? undefined : new ChunkAudit(route, this.options.settings.replayed === true, this.options.groupId);
    // The registry, the schema guard and plan compilation once per distinct writer schema; then pure masking.
    const chunk = await this.processor.prepare(records, policy);
    for (const record of records) {
      const result = this.processor.mask(record, chunk);
      const { facts } = result;
      const plan = this.plans?.identify(facts);
      if (result.target !== undefined) {
        // Same partition as the source: the target was created with the source's partition count, so
        // per-partition order (and so per-key order) carries over exactly.
        // Audit v2's lineage: the source offset on every target record, the plan hash where something was masked.
        const headers = chunkAudit === undefined
          ? result.target.headers
          : plan === undefined
            ? { ...result.target.headers, [SOURCE_OFFSET_HEADER]: record.offset }
            : { ...result.target.headers, [PLAN_HEADER]: plan.header, [SOURCE_OFFSET_HEADER]: record.offset };
        out.push({ topic: route.target.topic, partition: record.partition, cluster: 'target', ...result.target, ...(headers === undefined ? {} : { headers }) });
        counts.masked(facts, metrics !== undefined);
      }
      if (result.quarantine !== undefined) {
        // Raw records never leave the source cluster.
        out.push({ topic: quarantineTopic, cluster: 'source', ...result.quarantine });
        counts.quarantined += 1;
        metrics?.recordsQuarantined.inc({ route: route.name, code: facts.error?.code ?? 'unknown' });
        this.log.error(
          { partition: record.partition, offset: record.offset, code: facts.error?.code, reason: facts.error?.message },
          'record quarantined: it will not reach the target topic',
        );
      }
      if (metrics !== undefined) countDetections(metrics, route.name, facts);
      if (chunkAudit === undefined) out.push(this.auditMessage(this.processor.recordAuditEvent(facts)));
      else chunkAudit.add(facts, plan);
    }
    const first = records[0];
    const last = records[records.length - 1];
    if (chunkAudit !== undefined && this.plans !== undefined && first !== undefined && last !== undefined) {
      for (const event of this.plans.toWrite(first.partition, last.offset, chunkAudit.plans)) out.push(this.auditMessage(event));
      const event = chunkAudit.event(first.topic, first.partition);
      if (event !== undefined) out.push(this.auditMessage(event));
    }
    if (counts.quarantined > 0) this.options.onQuarantined?.(counts.quarantined);
    if (metrics !== undefined) counts.report(metrics, route.name);
    return out;
  }

  /** The transaction of a chunk of `partition` ending at `lastOffset` committed (audit v2 counts its plan events as written). */
  committed(partition: number, lastOffset: string): void {
    this.plans?.committed(partition, lastOffset);
  }

  private auditMessage(event: AuditEvent): OutboundMessage {
    return { topic: this.options.auditTopic, cluster: 'target', key: this.auditKey, value: encodeAuditEvent(event) };
  }
}

/** Counted per chunk, then added once: prom-client's labelled inc costs more than masking a field. */
class ChunkCounts {
  private maskedRecords = 0;
  quarantined = 0;
  private readonly byAction = new Map<string, number>();

  masked(facts: RecordFacts, byAction: boolean): void {
    this.maskedRecords += 1;
    if (!byAction) return;
    for (const field of facts.keyFields) this.byAction.set(field.action, (this.byAction.get(field.action) ?? 0) + 1);
    for (const field of facts.valueFields) this.byAction.set(field.action, (this.byAction.get(field.action) ?? 0) + 1);
  }

  report(metrics: MaskerMetrics, route: string): void {
    if (this.maskedRecords > 0) metrics.recordsOut.inc({ route }, this.maskedRecords);
    for (const [action, count] of this.byAction) metrics.maskedFields.inc({ route, action }, count);
  }
}

function countDetections(metrics: MaskerMetrics, route: string, facts: RecordFacts): void {
  if (facts.keyDetections.length === 0 && facts.valueDetections.length === 0) return;
  for (const [prefix, detections] of [['key:', facts.keyDetections], ['', facts.valueDetections]] as const) {
    for (const d of detections) {
      for (const detector of d.detectors) metrics.untaggedPii.inc({ route, field: `${prefix}${d.path}`, detector, outcome: d.outcome });
    }
  }
}
