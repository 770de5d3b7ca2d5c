import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadMessage {
  readonly partition: number;
  readonly message: KafkaMessage;
}

export interface ReadTopicOptions {
  /** Stop once this many messages arrived. */
  readonly expected?: number;
  /**
   * Called with each message as it arrives (in order per partition): return true when enough was read
   * (e.g. audit events that account for every record produced). With `expected`, whichever comes first.
   */
  readonly until?: (message: ReadMessage) => boolean;
  /** Stop after this long without a new message. Default 5 s. */
  readonly idleMs?: number;
  /** Stop after this long overall. Default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * Reads a topic from the beginning (read committed) with a throwaway consumer group until `expected`
 * messages arrived or `until` says enough, or until `idleMs` passed without a new one, or the overall
 * deadline. The group is deleted afterwards. For demos and tools, not for the pipeline.
 */
export async function readTopic(kafka: Kafka, topic: string, options: ReadTopicOptions = {}): Promise<ReadMessage[]> {
  const groupId = `masker-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 250 });
  const out: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(resolve, options.timeoutMs ?? 30_000);
      let idle: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(deadline);
        if (idle !== undefined) clearTimeout(idle);
        resolve();
      };
      const armIdle = (): void => {
        if (idle !== undefined) clearTimeout(idle);
        idle = setTimeout(finish, options.idleMs ?? 5_000);
      };
      armIdle();
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          const read = { partition, message };
          out.push(read);
          const enough = options.until?.(read) === true;
          if (enough || (options.expected !== undefined && out.length >= options.expected)) finish();
          else armIdle();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return out;
}
