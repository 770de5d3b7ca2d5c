import { Kafka, logLevel } from 'kafkajs';
import { MaskerError } from '../errors.js';

/** How long start-up waits for a broker before saying the setting is wrong. */
const PROBE_TIMEOUT_MS = 4_000;

/**
 * Checks at start-up that a cluster answers, with a short timeout and no retries, so a wrong address fails
 * in seconds with a message naming the setting — not after kafkajs' long retry schedule, which stays for
 * brokers that go away later. `setting` is the variable the brokers came from (`KAFKA_BROKERS`).
 */
export async function probeBrokers(brokers: readonly string[], setting: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'masker-probe',
    brokers: [...brokers],
    connectionTimeout: PROBE_TIMEOUT_MS,
    requestTimeout: PROBE_TIMEOUT_MS,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS * 2);
      }),
    ]);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MaskerError('MASKER_CONFIG', `${setting}=${brokers.join(',')}: no Kafka broker answers there (${reason}); check the address, or start the local stack (npm run stack:up)`, { cause: err });
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
