import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/** One audit message: the key (route, policy name or API key id) and the encoded event. */
export interface AuditMessage {
  readonly key: string;
  readonly value: Buffer;
}

interface Queued {
  readonly message: AuditMessage;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * The one Kafka producer of audit events written outside record transactions (the workers' policy and
 * schema events, `masker serve`'s per-call events): idempotent, NON-transactional, acks=all, one request
 * in flight. Concurrent writes are batched: while one send is in flight, new messages queue and go together
 * in the next send. `write` resolves once its messages are acknowledged and rejects with the send's error
 * (no retry here: the callers decide — the worker sink re-queues, the HTTP sink answers 503).
 */
export class AuditProducer {
  private producer: Producer | undefined;
  private queue: Queued[] = [];
  private sending = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly kafka: Kafka, readonly topic: string) {}

  get started(): boolean {
    return this.producer !== undefined;
  }

  async start(): Promise<void> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    this.producer = producer;
  }

  /** Rejects at once when not started. */
  write(messages: readonly AuditMessage[]): Promise<void> {
    if (this.producer === undefined) return Promise.reject(new Error('audit producer not started'));
    if (messages.length === 0) return Promise.resolve();
    const writes = messages.map((message) => new Promise<void>((resolve, reject) => this.queue.push({ message, resolve, reject })));
    this.pump();
    return Promise.all(writes).then(() => undefined);
  }

  /** Waits for the send in flight and the queue behind it, then disconnects; what is still queued rejects. */
  async stop(): Promise<void> {
    await this.idle;
    const producer = this.producer;
    this.producer = undefined;
    for (const q of this.queue.splice(0)) q.reject(new Error('audit sink stopped'));
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
        await producer.send({ topic: this.topic, acks: -1, messages: batch.map(({ message }) => ({ key: message.key, value: message.value })) });
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err instanceof Error ? err : new Error('audit send failed'));
      }
    }
  }
}
