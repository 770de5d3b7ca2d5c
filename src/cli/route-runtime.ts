import { KafkaAuditSink } from '../audit/audit-sink.js';
import type { PolicyAuditEvent } from '../audit/audit-event.js';
import type { MaskerEnv } from '../config/env.js';
import type { Route } from '../config/routes.js';
import { ensureTopics } from '../kafka/admin.js';
import type { Logger } from '../observability/logger.js';
import { openPolicyProvider, type OpenedPolicyProvider } from '../policy/open-policy-provider.js';
import { openSchemaGuard } from '../policy/open-schema-guard.js';
import type { SchemaGuard } from '../policy/schema-guard.js';
import { connectClusters, type Clusters } from './clusters.js';
import type { PolicyStoreSettings } from './policy-store-settings.js';

export interface OpenRouteRuntimeOptions {
  readonly routes: readonly Route[];
  /** `--policies`: the folder used when REDIS_URL is not set; the approvals file lives there by default. */
  readonly policiesDir: string;
  readonly stores: PolicyStoreSettings;
  /**
   * Policy events (policy-applied / policy-rejected). `masker run` writes them to the audit topic and
   * sets its policy-version metric; `masker replay` does neither (absent).
   */
  readonly onPolicyEvent?: (event: PolicyAuditEvent, auditSink: KafkaAuditSink) => void;
}

/** What `masker run` and `masker replay` both mask with, once opened. */
export interface OpenedRouteRuntime {
  readonly policies: OpenedPolicyProvider;
  /** Started; what it records (baseline, held schemas) is audited on the audit topic. */
  readonly schemaGuard: SchemaGuard;
}

/**
 * The one wiring path of `masker run` and `masker replay`: the clusters and the registry lookup (from the
 * environment), the audit sink (audit topic on the target cluster, else the source), then — on `open` —
 * the policy provider and the schema-change guard. `close()` stops what was started, once.
 */
export class RouteRuntime {
  readonly clusters: Clusters;
  readonly auditSink: KafkaAuditSink;
  private policies: OpenedPolicyProvider | undefined;
  private schemaGuard: SchemaGuard | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly env: MaskerEnv, private readonly logger: Logger, clientId: string) {
    this.clusters = connectClusters(env, logger, clientId);
    this.auditSink = new KafkaAuditSink(this.outputKafka, env.MASKER_AUDIT_TOPIC, logger);
  }

  /** Target cluster when there is one: masked records and audit. */
  get outputKafka(): Clusters['kafka'] {
    return this.clusters.targetKafka ?? this.clusters.kafka;
  }

  /**
   * Opens the policies, starts the audit sink (creating the audit topic), then the schema-change guard.
   * On failure, call close(): it stops what had started.
   */
  async open(options: OpenRouteRuntimeOptions): Promise<OpenedRouteRuntime> {
    const { onPolicyEvent } = options;
    this.policies = await openPolicyProvider({
      routes: options.routes,
      policiesDir: options.policiesDir,
      ...options.stores,
      logger: this.logger,
      ...(onPolicyEvent === undefined ? {} : { onEvent: (event: PolicyAuditEvent) => onPolicyEvent(event, this.auditSink) }),
    });
    await ensureTopics(this.outputKafka, [{ topic: this.env.MASKER_AUDIT_TOPIC }]);
    await this.auditSink.start();
    this.schemaGuard = await openSchemaGuard({
      routes: options.routes,
      policiesDir: options.policiesDir,
      ...options.stores,
      logger: this.logger,
      onEvent: (event) => this.auditSink.publish(event),
    });
    return { policies: this.policies, schemaGuard: this.schemaGuard };
  }

  close(): Promise<void> {
    this.closing ??= Promise.allSettled([this.policies?.stop(), this.schemaGuard?.stop(), this.auditSink.stop()]).then(() => undefined);
    return this.closing;
  }
}
