import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { shadowTopic } from '../../../src/kafka/cross-cluster.js';
import { CommittedPositions } from '../../../src/kafka/positions.js';

/** A client whose admin answers fetchOffsets from `stored` (kafkajs says -1 for "none"). */
function fakeCluster(stored: Record<number, string>): { kafka: Kafka; fetched: { groupId: string; topics: string[] }[] } {
  const fetched: { groupId: string; topics: string[] }[] = [];
  const kafka = {
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async (req: { groupId: string; topics: string[] }) => {
        fetched.push(req);
        return [{ topic: req.topics[0], partitions: Object.entries(stored).map(([p, offset]) => ({ partition: Number(p), offset })) }];
      },
    }),
  } as unknown as Kafka;
  return { kafka, fetched };
}

describe('CommittedPositions', () => {
  it('reads the group position on the shadow topic of the target cluster, one partition at a time', async () => {
    const { kafka, fetched } = fakeCluster({ 0: '42', 1: '7' });
    const positions = new CommittedPositions(kafka, 'g', shadowTopic);
    expect(await positions.load('prod.t', 0)).toBe(42n);
    expect(fetched).toEqual([{ groupId: 'g', topics: [shadowTopic('prod.t')] }]);
    expect(shadowTopic('prod.t')).toBe('masker.offsets.prod.t');
    // The neighbour is not read ahead: its producer has not fenced its predecessor yet.
    expect(positions.get('prod.t', 1)).toBeUndefined();
  });

  it('reads the group position on the source topic itself by default (one cluster)', async () => {
    const { kafka, fetched } = fakeCluster({ 2: '11' });
    expect(await new CommittedPositions(kafka, 'g').load('prod.t', 2)).toBe(11n);
    expect(fetched).toEqual([{ groupId: 'g', topics: ['prod.t'] }]);
  });

  it('treats "no committed offset" as the beginning', async () => {
    const positions = new CommittedPositions(fakeCluster({ 0: '-1' }).kafka, 'g');
    expect(await positions.load('t', 0)).toBe(0n);
    expect(await positions.load('t', 3)).toBe(0n);
  });

  it('keeps own commits until reset or forget, then reloads', async () => {
    const { kafka, fetched } = fakeCluster({ 0: '5' });
    const positions = new CommittedPositions(kafka, 'g');
    positions.set('t', 0, 9n);
    expect(positions.get('t', 0)).toBe(9n);
    positions.forget('t', 0);
    expect(positions.get('t', 0)).toBeUndefined();
    positions.set('t', 0, 9n);
    positions.reset();
    expect(positions.get('t', 0)).toBeUndefined();
    expect(await positions.load('t', 0)).toBe(5n);
    expect(fetched).toHaveLength(1);
  });
});
