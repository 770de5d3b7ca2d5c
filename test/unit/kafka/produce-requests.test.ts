import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../../src/kafka/messages.js';
import { groupByTopic, produceRequests } from '../../../src/kafka/produce-requests.js';

describe('groupByTopic', () => {
  it('groups by topic in order of first appearance and keeps only what Kafka carries', () => {
    const outputs: OutboundMessage[] = [
      { topic: 'a', key: Buffer.from('1'), value: null, cluster: 'target' },
      { topic: 'b', key: null, value: Buffer.from('x'), partition: 2, headers: { h: 'v' }, cluster: 'source' },
      { topic: 'a', key: Buffer.from('3'), value: null },
    ];
    expect(groupByTopic(outputs)).toEqual([
      { topic: 'a', messages: [{ key: Buffer.from('1'), value: null }, { key: Buffer.from('3'), value: null }] },
      { topic: 'b', messages: [{ key: null, value: Buffer.from('x'), partition: 2, headers: { h: 'v' } }] },
    ]);
  });
});

describe('produceRequests', () => {
  it('sends nothing for no outputs', () => {
    expect(produceRequests([])).toEqual([]);
  });

  it('keeps one topic\'s records per request under the limit (default 768 KiB), in order', () => {
    const outputs: OutboundMessage[] = Array.from({ length: 5 }, (_, i) => ({ topic: 'audit', key: Buffer.from(String(i)), value: Buffer.alloc(300 * 1024) }));
    const requests = produceRequests(outputs);
    expect(requests.map((r) => r.map((g) => g.messages.map((m) => String(m.key))))).toEqual([[['0', '1']], [['2', '3']], [['4']]]);
  });
});
