import type { Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger.js';
import { AuditProducer } from './audit-producer.js';
import { encodeAuditEvent, type PolicyAuditEvent, type SchemaAuditEvent } from './audit-event.js';

/** Audit events written outside record transactions. */
export type SideAuditEvent = PolicyAuditEvent | SchemaAuditEvent;

/**
 * Audit events that do not belong to a record transaction (policy-applied / policy-rejected, and the
 * schema-change guard's schema-held / schema-approved). Record
 * audit events never go through here: they commit in the same transaction as their record.
 * Events published before `start()` are buffered; a send failure is logged (by code, never content)
 * and retried with the next event.
 */
export interface AuditSink {
  publish(event: SideAuditEvent): void;
}

/** {@link AuditSink} over the shared {@link AuditProducer}: buffers until started, re-queues what a send could not write. */
export class KafkaAuditSink implements AuditSink {
  private readonly producer: AuditProducer;
  private pending: SideAuditEvent[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(kafka: Kafka, topic: string, private readonly logger: Logger) {
    this.producer = new AuditProducer(kafka, topic);
  }

  async start(): Promise<void> {
    await this.producer.start();
    this.flush();
    await this.flushing;
  }

  publish(event: SideAuditEvent): void {
    this.pending.push(event);
    if (this.producer.started) this.flush();
  }

  /** Events not written yet (after stop(): the ones that could not be written). */
  get unsent(): number {
    return this.pending.length;
  }

  async stop(): Promise<void> {
    await this.flushing;
    await this.producer.stop();
  }

  private flush(): void {
    this.flushing = this.flushing.then(async () => {
      if (!this.producer.started || this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      try {
        await this.producer.write(batch.map((e) => ({ key: 'policy' in e ? e.policy.name : e.route, value: encodeAuditEvent(e) })));
      } catch (err) {
        this.pending = [...batch, ...this.pending];
        this.logger.error({ err: err instanceof Error ? err.name : typeof err, events: batch.length }, 'audit events not yet written; will retry');
      }
    });
  }
}
