import { describe, expect, it } from 'vitest';
import { isRoutineRetry } from '../../../src/kafka/client.js';

describe('kafkajs log triage', () => {
  it('treats retried CONCURRENT_TRANSACTIONS and rebalance notices as routine', () => {
    const concurrent = 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
    expect(isRoutineRetry('Response AddPartitionsToTxn(key: 24, version: 1)', { error: concurrent, broker: 'b:1' })).toBe(true);
    expect(isRoutineRetry(`Failed to send messages: ${concurrent}`, { retryCount: 0 })).toBe(true);
    expect(isRoutineRetry('Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' })).toBe(true);
    // Two workers starting together: the second one's CreateTopics finds the topic there (kafkajs ignores it).
    expect(isRoutineRetry('Response CreateTopics(key: 19, version: 3)', { error: 'Topic creation errors', broker: 'b:1' })).toBe(true);
  });

  it('keeps everything else at its level', () => {
    expect(isRoutineRetry('Response Produce(key: 0, version: 7)', { error: 'The producer has been rejected from the broker because it tried to use an old epoch with the transactionalId' })).toBe(false);
    expect(isRoutineRetry('Crash: KafkaJSNumberOfRetriesExceeded', {})).toBe(false);
    expect(isRoutineRetry('Connection error: connect ECONNREFUSED 127.0.0.1:19092', { broker: '127.0.0.1:19092' })).toBe(false);
  });
});
