import { describe, expect, it } from 'vitest';
import { sliceBySize } from '../../../src/kafka/produce-requests.js';

const msg = (n: number, bytes: number): { key: Buffer; value: Buffer } => ({ key: Buffer.from(String(n)), value: Buffer.alloc(bytes) });

describe('sliceBySize', () => {
  it('keeps small batches in one request', () => {
    const requests = sliceBySize([{ topic: 'a', messages: [msg(1, 10), msg(2, 10)] }, { topic: 'b', messages: [msg(3, 10)] }], 10_000);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((g) => [g.topic, g.messages.length])).toEqual([['a', 2], ['b', 1]]);
  });

  it('splits large batches so each topic\'s share of a request stays under the limit, preserving order, losing nothing', () => {
    const a = Array.from({ length: 50 }, (_, i) => msg(i, 1000));
    const b = Array.from({ length: 20 }, (_, i) => msg(100 + i, 1000));
    const requests = sliceBySize([{ topic: 'a', messages: a }, { topic: 'b', messages: b }], 8_000);
    expect(requests.length).toBeGreaterThanOrEqual(7);
    for (const request of requests) {
      for (const group of request) {
        const size = group.messages.reduce((s, m) => s + (m.value as Buffer).length + 64 + (m.key as Buffer).length, 0);
        expect(size).toBeLessThanOrEqual(8_000);
      }
    }
    // Topics share requests: the first request carries a run of each.
    expect(requests[0]!.map((g) => g.topic)).toEqual(['a', 'b']);
    const keys = (topic: string): string[] => requests.flat().filter((g) => g.topic === topic).flatMap((g) => g.messages.map((m) => String(m.key)));
    expect(keys('a')).toEqual(a.map((m) => String(m.key)));
    expect(keys('b')).toEqual(b.map((m) => String(m.key)));
  });

  it('still sends a single message larger than the limit, alone', () => {
    const requests = sliceBySize([{ topic: 'a', messages: [msg(1, 10), msg(2, 50_000), msg(3, 10)] }], 1_000);
    expect(requests.map((r) => r.flatMap((g) => g.messages).length)).toEqual([1, 1, 1]);
  });
});
