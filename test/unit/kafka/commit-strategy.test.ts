import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { commitStrategyFor, type ChunkEnd } from '../../../src/kafka/commit-strategy.js';
import type { OutboundMessage } from '../../../src/kafka/messages.js';
import type { Cluster, PartitionProducers, TransactionalProducer } from '../../../src/kafka/producer-pool.js';

const log = pino({ level: 'silent' });
const unusedKafka = {} as Kafka;
const groupId = 'masker-test';
const chunk: ChunkEnd = { topic: 'prod.cdc.customers', partition: 3, lastOffset: '41' };

const out = (topic: string, n: number, extra: Partial<OutboundMessage> = {}): OutboundMessage => ({ topic, key: Buffer.from(String(n)), value: Buffer.from(`v${n}`), ...extra });

/** Producers that record every call, in order, as `<cluster>#<transaction number> <call> ...`. */
class RecordingProducers implements PartitionProducers {
  readonly calls: string[] = [];
  readonly dropped: string[] = [];
  private transactions = 0;

  constructor(private readonly failOn?: { cluster: Cluster; call: 'sendBatch' | 'sendOffsets' | 'commit' }) {}

  async producer(cluster: Cluster, topic: string, partition: number): Promise<TransactionalProducer> {
    const calls = this.calls;
    const fail = this.failOn;
    const next = (): number => ++this.transactions;
    calls.push(`${cluster} producer ${topic}-${partition}`);
    const producer = {
      transaction: async () => {
        const tx = `${cluster}#${next()}`;
        calls.push(`${tx} begin`);
        const maybeFail = (call: string): void => {
          if (fail !== undefined && fail.cluster === cluster && fail.call === call) throw new Error(`${call} failed`);
        };
        return {
          sendBatch: async (batch: { topicMessages?: { topic: string; messages: { key?: unknown }[] }[] }) => {
            calls.push(`${tx} sendBatch ${(batch.topicMessages ?? []).map((t) => `${t.topic}:${t.messages.map((m) => String(m.key)).join(',')}`).join(' ')}`);
            maybeFail('sendBatch');
            return [];
          },
          sendOffsets: async (o: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }) => {
            calls.push(`${tx} sendOffsets ${o.consumerGroupId} ${o.topics.map((t) => t.partitions.map((p) => `${t.topic}[${p.partition}]=${p.offset}`).join(' ')).join(' ')}`);
            maybeFail('sendOffsets');
          },
          commit: async () => {
            calls.push(`${tx} commit`);
            maybeFail('commit');
          },
          abort: async () => {
            calls.push(`${tx} abort`);
          },
          isActive: () => true,
        };
      },
    };
    return producer as unknown as TransactionalProducer;
  }

  async drop(cluster: Cluster, topic: string, partition: number): Promise<void> {
    this.dropped.push(`${cluster} ${topic}-${partition}`);
  }
}

describe('one-cluster commit', () => {
  it('publishes records, audit, quarantine and the consumer offset in one source transaction, offset before commit', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers });
    expect(strategy.positionCluster).toBe('source');
    await strategy.commit(chunk, [out('staging.customers', 1), out('masker.quarantine', 2), out('masker.audit', 3), out('staging.customers', 4)], log);
    expect(producers.calls).toEqual([
      'source producer prod.cdc.customers-3',
      'source#1 begin',
      'source#1 sendBatch staging.customers:1,4 masker.quarantine:2 masker.audit:3',
      `source#1 sendOffsets ${groupId} prod.cdc.customers[3]=42`,
      'source#1 commit',
    ]);
  });

  it('ignores a `cluster` on outputs: one cluster holds everything', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers });
    await strategy.commit(chunk, [out('staging.customers', 1, { cluster: 'target' }), out('masker.quarantine', 2, { cluster: 'source' })], log);
    expect(producers.calls.filter((c) => c.startsWith('target'))).toEqual([]);
    expect(producers.calls).toContain('source#1 sendBatch staging.customers:1 masker.quarantine:2');
  });

  it('splits large outputs into several requests, all before sendOffsets, in the same transaction', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers });
    const big = Array.from({ length: 4 }, (_, i) => out('masker.audit', i, { value: Buffer.alloc(300 * 1024) }));
    await strategy.commit(chunk, big, log);
    const ops = producers.calls.map((c) => c.split(' ')[1]);
    expect(ops).toEqual(['producer', 'begin', 'sendBatch', 'sendBatch', 'sendOffsets', 'commit']);
    expect(new Set(producers.calls.slice(1).map((c) => c.split(' ')[0]))).toEqual(new Set(['source#1']));
  });

  it('aborts, drops the producer and rethrows when the transaction fails', async () => {
    const producers = new RecordingProducers({ cluster: 'source', call: 'sendOffsets' });
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers });
    await expect(strategy.commit(chunk, [out('staging.customers', 1)], log)).rejects.toThrow('sendOffsets failed');
    expect(producers.calls.at(-1)).toBe('source#1 abort');
    expect(producers.calls).not.toContain('source#1 commit');
    expect(producers.dropped).toEqual(['source prod.cdc.customers-3']);
  });

  it('leaves the source group offset to the transaction', async () => {
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers: new RecordingProducers() });
    const committed: unknown[] = [];
    await strategy.commitSourceOffset({ commitOffsets: async (o) => { committed.push(o); } }, chunk, log);
    expect(committed).toEqual([]);
  });
});

describe('two-cluster commit', () => {
  const crossCluster = { targetKafka: unusedKafka, sourceClusterTopics: ['masker.quarantine'] };

  it('commits quarantine in a source transaction first, then target records + audit + the position on the shadow topic', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers, crossCluster });
    expect(strategy.positionCluster).toBe('target');
    await strategy.commit(chunk, [out('staging.customers', 1), out('masker.quarantine', 2), out('masker.audit', 3), out('masker.quarantine', 4)], log);
    expect(producers.calls).toEqual([
      'source producer prod.cdc.customers-3',
      'source#1 begin',
      'source#1 sendBatch masker.quarantine:2,4',
      'source#1 commit',
      'target producer prod.cdc.customers-3',
      'target#2 begin',
      'target#2 sendBatch staging.customers:1 masker.audit:3',
      `target#2 sendOffsets ${groupId} masker.offsets.prod.cdc.customers[3]=42`,
      'target#2 commit',
    ]);
  });

  it('opens no source transaction when nothing is quarantined', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers, crossCluster });
    await strategy.commit(chunk, [out('staging.customers', 1), out('masker.audit', 2)], log);
    expect(producers.calls.filter((c) => c.startsWith('source'))).toEqual([]);
    expect(producers.calls.at(-1)).toBe('target#1 commit');
  });

  it('still commits the position on the target when a chunk has no target outputs', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers, crossCluster });
    await strategy.commit(chunk, [], log);
    expect(producers.calls).toEqual([
      'target producer prod.cdc.customers-3',
      'target#1 begin',
      `target#1 sendOffsets ${groupId} masker.offsets.prod.cdc.customers[3]=42`,
      'target#1 commit',
    ]);
  });

  it('routes outputs by their `cluster` when they name one, by sourceClusterTopics otherwise', async () => {
    const producers = new RecordingProducers();
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers, crossCluster });
    await strategy.commit(chunk, [out('raw.copy', 1, { cluster: 'source' }), out('masker.quarantine', 2), out('staging.customers', 3, { cluster: 'target' })], log);
    expect(producers.calls).toContain('source#1 sendBatch raw.copy:1 masker.quarantine:2');
    expect(producers.calls).toContain('target#2 sendBatch staging.customers:3');
  });

  it('never opens the target transaction when the quarantine transaction fails', async () => {
    const producers = new RecordingProducers({ cluster: 'source', call: 'commit' });
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers, crossCluster });
    await expect(strategy.commit(chunk, [out('masker.quarantine', 1), out('staging.customers', 2)], log)).rejects.toThrow('commit failed');
    expect(producers.calls.filter((c) => c.startsWith('target'))).toEqual([]);
    expect(producers.dropped).toEqual(['source prod.cdc.customers-3']);
  });

  it('commits the source group offset past the chunk afterwards, and tolerates its failure', async () => {
    const strategy = commitStrategyFor({ kafka: unusedKafka, groupId, producers: new RecordingProducers(), crossCluster });
    const committed: unknown[] = [];
    await strategy.commitSourceOffset({ commitOffsets: async (o) => { committed.push(o); } }, chunk, log);
    expect(committed).toEqual([[{ topic: 'prod.cdc.customers', partition: 3, offset: '42' }]]);
    await expect(strategy.commitSourceOffset({ commitOffsets: async () => { throw new Error('coordinator gone'); } }, chunk, log)).resolves.toBeUndefined();
  });
});
