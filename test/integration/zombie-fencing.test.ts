import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shadowTopic } from '../../src/kafka/cross-cluster.js';
import { TransactionalLoop, type InboundRecord, type OutboundMessage } from '../../src/kafka/transactional-loop.js';
import { createLogger } from '../../src/observability/logger.js';
import { waitFor } from './support/cli-worker.js';
import { committedCount, consumeAll, createTopics, deleteTopics, targetBrokers, testKafka, testTargetKafka, unique } from './support/services.js';

/**
 * The zombie of a rebalance. Worker A holds a chunk and stalls (a GC pause, a slow registry) past its
 * session; worker B takes the partition over and reads the committed offset. Then A wakes up and commits.
 * kafkajs' TxnOffsetCommit carries no group generation (no KIP-447), so the broker takes A's late commit:
 * unless B fences A BEFORE it reads the position, B delivers the same chunk again. Driven step by step:
 * B releases A from inside its own handler, i.e. after B got the records and before B commits them.
 */
const modes: { name: string; targetKafka: () => Kafka | undefined }[] = [
  { name: 'one cluster', targetKafka: () => undefined },
  ...(targetBrokers() === undefined ? [] : [{ name: 'separate target cluster', targetKafka: testTargetKafka }]),
];

describe.each(modes)('a worker that lost its partition while holding a chunk ($name)', (mode) => {
  const kafka = testKafka();
  const targetKafka = mode.targetKafka();
  const outKafka = targetKafka ?? kafka;
  const source = unique('it.zombie.src');
  const target = unique('it.zombie.dst');
  const groupId = unique('it-zombie');
  const RECORDS = 10;
  const loops: TransactionalLoop[] = [];
  let aOutcome = 'none';

  function copyTo(records: readonly InboundRecord[]): OutboundMessage[] {
    return records.map((r) => ({ topic: target, key: r.key, value: r.value }));
  }

  function loop(name: string, handler: (records: readonly InboundRecord[]) => Promise<readonly OutboundMessage[]>, onLog: (line: string) => void, onCommit?: () => void): TransactionalLoop {
    return new TransactionalLoop({
      kafka,
      groupId,
      topics: [source],
      transactionalIdPrefix: `it-zombie-${groupId}`,
      handler,
      logger: createLogger('info', { write: onLog }).child({ worker: name }),
      sessionTimeoutMs: 6_000,
      ...(targetKafka === undefined ? {} : { crossCluster: { targetKafka, sourceClusterTopics: [] } }),
      ...(onCommit === undefined ? {} : { onCommit }),
    });
  }

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    await createTopics(outKafka, [target, ...(targetKafka === undefined ? [] : [shadowTopic(source)])]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: source, messages: Array.from({ length: RECORDS }, (_, n) => ({ key: String(n), value: `v${n}` })) });
    await producer.disconnect();

    let releaseA = (): void => undefined;
    const aReleased = new Promise<void>((r) => { releaseA = r; });
    let aHasChunk = false;

    const a = loop('A', async (records) => {
      if (!aHasChunk) {
        aHasChunk = true;
        await aReleased;
      }
      return copyTo(records);
    }, (line) => {
      if (line.includes('transaction failed')) aOutcome = 'fenced';
    }, () => { aOutcome = 'committed'; });
    loops.push(a);
    await a.start();
    await waitFor('worker A to hold a chunk', async () => aHasChunk, 60_000, 50);

    let bReleasedA = false;
    const b = loop('B', async (records) => {
      if (!bReleasedA) {
        bReleasedA = true;
        releaseA();
        // Let A's late commit land (or fail) before B commits the same records.
        await waitFor('worker A to commit or be fenced', async () => aOutcome !== 'none', 30_000, 50);
      }
      return copyTo(records);
    }, () => undefined);
    loops.push(b);
    await b.start();
    const committed = (): Promise<number> => (targetKafka === undefined
      ? committedCount(kafka, groupId, source)
      : committedCount(targetKafka, groupId, shadowTopic(source)));
    await waitFor('every record committed', async () => (await committed()) >= RECORDS, 90_000, 250);
  });

  afterAll(async () => {
    for (const l of loops) await l.stop().catch(() => undefined);
    await deleteTopics(kafka, [source]);
    await deleteTopics(outKafka, [target, ...(targetKafka === undefined ? [] : [shadowTopic(source)])]);
  });

  it('delivers each record once: the successor fenced the zombie before reading the position', async () => {
    const out = await consumeAll(outKafka, target, RECORDS, { settleMs: 2_000 });
    expect(out.map((m) => m.key?.toString())).toEqual(Array.from({ length: RECORDS }, (_, n) => String(n)));
    // The late commit of A was refused by the broker: A's producer had been fenced.
    expect(aOutcome).toBe('fenced');
  });
});
