import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../observability/logger.js';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
}

/** kafkajs client whose own logs go through pino (warn and above; kafkajs is chatty at info). */
export function createKafka(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(options.logger.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

function pinoLogCreator(logger: Logger): logCreator {
  return () => ({ level, log }: LogEntry) => {
    // kafkajs log entries carry metadata (broker, topic, error text) but never message payloads.
    const { message, timestamp: _timestamp, logger: _name, ...rest } = log;
    const meta = { kafkajs: rest };
    // Every idempotent producer of ours is transactional: a send that runs out of retries aborts the
    // transaction and the batch is redone, so kafkajs' warning about limited retries does not apply.
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    if (level <= logLevel.WARN && isRoutineRetry(message, rest)) {
      logger.debug(meta, message);
      return;
    }
    if (level === logLevel.ERROR) logger.error(meta, message);
    else if (level === logLevel.WARN) logger.warn(meta, message);
    else if (level === logLevel.INFO) logger.info(meta, message);
    else logger.debug(meta, message);
  };
}

/**
 * kafkajs logs at ERROR every protocol error it then retries, including two that are routine here:
 * CONCURRENT_TRANSACTIONS (the next transaction starts while the broker still writes the previous one's
 * markers: most transactions meet it once, and the producer retries after 20 ms) and a rebalance in
 * progress (every scale-out or restart; the consumer rejoins). Errors at ERROR level must mean something
 * an operator should look at, so these go to debug. Anything that exhausts its retries still surfaces:
 * the transaction fails and the loop logs it. Likewise "Topic creation errors" on a CreateTopics response:
 * when workers start together, all but one find the topic already created, which kafkajs then ignores;
 * any other creation error makes `createTopics` throw, and the caller reports it.
 */
export function isRoutineRetry(message: string, meta: Record<string, unknown>): boolean {
  const error = typeof meta['error'] === 'string' ? meta['error'] : message;
  return error.includes('another concurrent operation on the same transaction was ongoing')
    || error.includes('The group is rebalancing, so a rejoin is needed')
    || (message.startsWith('Response CreateTopics') && error === 'Topic creation errors');
}
