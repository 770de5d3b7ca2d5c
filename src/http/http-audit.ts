import type { Kafka } from 'kafkajs';
import { AuditProducer } from '../audit/audit-producer.js';
import { type AUDIT_SCHEMA_VERSION, type FieldAudit, type PolicyAuditEvent } from '../audit/audit-event.js';
import type { Logger } from '../observability/logger.js';

/**
 * One audit event per call of `POST /v1/mask` (every outcome, 401s included): who (API key id), what
 * (subject / schema id, policy), the outcome and HTTP status, and which fields were masked how. Never a
 * record value, never a masked value, never the API key. JSON on the audit topic, like the workers' events.
 */
export interface HttpAuditEvent {
  readonly schema: typeof AUDIT_SCHEMA_VERSION;
  readonly type: 'http-mask';
  /** Also the `x-request-id` response header and the problem's `requestId`. */
  readonly id: string;
  readonly time: string;
  /** The API key's id; null when the caller was not authenticated. */
  readonly apiKeyId: string | null;
  readonly subject: string | null;
  /** The schema id used (resolved from the subject), or the one asked for. */
  readonly schemaId: number | null;
  /** The policy asked for (name only) or applied (with version and sha256). */
  readonly policy: { readonly name: string; readonly version: number | null; readonly sha256: string | null } | null;
  /** Masking key id (rotation bookkeeping). */
  readonly keyId: string;
  readonly outcome: 'masked' | 'rejected';
  readonly status: number;
  readonly fieldCount: number;
  readonly fields: readonly FieldAudit[];
  /** Rejections: the problem type and the reason (fixed text: e.g. `unknown-key`, `MASKER_PLAN`). */
  readonly error?: { readonly code: string; readonly message: string };
  readonly client: { readonly address: string | null };
  readonly durationMs: number;
}

export type ServeAuditEvent = HttpAuditEvent | PolicyAuditEvent;

export interface HttpAuditSink {
  /** Where events go, for the startup log. */
  readonly description: string;
  /** Resolves once the event is durably written (Kafka: acks=all); rejects when it could not be. */
  write(event: ServeAuditEvent): Promise<void>;
  stop(): Promise<void>;
}

/** Audit to the structured log (stderr), used when KAFKA_BROKERS is not set. Announced at startup. */
export class LogHttpAuditSink implements HttpAuditSink {
  readonly description = 'the structured log (KAFKA_BROKERS is not set)';

  constructor(private readonly logger: Logger) {}

  write(event: ServeAuditEvent): Promise<void> {
    this.logger.info({ audit: event }, 'audit event');
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Audit events to a Kafka topic through the shared {@link AuditProducer} (idempotent, NON-transactional,
 * acks=all; concurrent writes batched into one send). A write that is not acknowledged within `timeoutMs`
 * rejects (the caller withholds the masked record); kafkajs may still deliver it later, so the log then has
 * one event for an answer the client saw as 503.
 */
export class KafkaHttpAuditSink implements HttpAuditSink {
  readonly description: string;
  private readonly producer: AuditProducer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 10_000,
  ) {
    this.description = `Kafka topic ${topic}`;
    this.producer = new AuditProducer(kafka, topic);
  }

  start(): Promise<void> {
    return this.producer.start();
  }

  write(event: ServeAuditEvent): Promise<void> {
    if (!this.producer.started) return Promise.reject(new Error('audit producer not started'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`audit event not acknowledged within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.producer.write([{ key: auditKey(event), value: Buffer.from(JSON.stringify(event), 'utf8') }]).then(
        () => { clearTimeout(timer); resolve(); },
        (err: unknown) => {
          clearTimeout(timer);
          this.logger.error({ err: err instanceof Error ? err.name : typeof err, topic: this.topic }, 'audit event could not be written');
          reject(err instanceof Error ? err : new Error('audit send failed'));
        },
      );
    });
  }

  /** Waits for queued events, then disconnects. */
  stop(): Promise<void> {
    return this.producer.stop();
  }
}

function auditKey(event: ServeAuditEvent): string {
  return event.type === 'http-mask' ? (event.apiKeyId ?? 'anonymous') : event.policy.name;
}
