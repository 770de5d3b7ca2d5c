import { Partitioners, type Kafka, type Producer } from 'kafkajs';
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

interface Pending {
  readonly event: ServeAuditEvent;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * Audit events to a Kafka topic through one idempotent, NON-transactional producer (acks=all). Concurrent
 * writes are batched: while one send is in flight, new events queue and go together in the next send, so
 * throughput does not suffer from the producer's one-request-in-flight idempotence. A write that is not
 * acknowledged within `timeoutMs` rejects (the caller withholds the masked record); kafkajs may still
 * deliver it later, so the log then has one event for an answer the client saw as 503.
 */
export class KafkaHttpAuditSink implements HttpAuditSink {
  readonly description: string;
  private producer: Producer | undefined;
  private queue: Pending[] = [];
  private sending = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 10_000,
  ) {
    this.description = `Kafka topic ${topic}`;
  }

  async start(): Promise<void> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    this.producer = producer;
  }

  write(event: ServeAuditEvent): Promise<void> {
    if (this.producer === undefined) return Promise.reject(new Error('audit producer not started'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`audit event not acknowledged within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.queue.push({
        event,
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
      this.pump();
    });
  }

  /** Waits for queued events (bounded by their timeouts), then disconnects. */
  async stop(): Promise<void> {
    await this.idle;
    const producer = this.producer;
    this.producer = undefined;
    for (const p of this.queue.splice(0)) p.reject(new Error('audit sink stopped'));
    await producer?.disconnect();
  }

  private pump(): void {
    if (this.sending || this.queue.length === 0 || this.producer === undefined) return;
    this.sending = true;
    this.idle = this.drain().finally(() => {
      this.sending = false;
    });
  }

  private async drain(): Promise<void> {
    for (let producer = this.producer; producer !== undefined && this.queue.length > 0; producer = this.producer) {
      const batch = this.queue;
      this.queue = [];
      try {
        await producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map(({ event }) => ({ key: auditKey(event), value: Buffer.from(JSON.stringify(event), 'utf8') })),
        });
        for (const p of batch) p.resolve();
      } catch (err) {
        this.logger.error({ err: err instanceof Error ? err.name : typeof err, events: batch.length, topic: this.topic }, 'audit events could not be written');
        for (const p of batch) p.reject(err instanceof Error ? err : new Error('audit send failed'));
      }
    }
  }
}

function auditKey(event: ServeAuditEvent): string {
  return event.type === 'http-mask' ? (event.apiKeyId ?? 'anonymous') : event.policy.name;
}
