import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// kafkajs' own read_committed filter, as patched by patches/kafkajs+2.2.4.patch (applied at npm install).
const require = createRequire(import.meta.url);
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (input: {
  messages: Message[];
  abortedTransactions: { producerId: string; firstOffset: string }[];
}) => Message[];

interface Message {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
}

const data = (offset: number, producerId: string): Message => ({ offset: String(offset), key: Buffer.from('k'), batchContext: { producerId, inTransaction: true } });
const abortMarker = (offset: number, producerId: string): Message => ({ offset: String(offset), key: Buffer.from([0, 0, 0, 0]), batchContext: { producerId, inTransaction: true } });
const commitMarker = (offset: number, producerId: string): Message => ({ offset: String(offset), key: Buffer.from([0, 0, 0, 1]), batchContext: { producerId, inTransaction: true } });

describe('kafkajs read_committed filter (patched)', () => {
  it('drops aborted records of interleaved producers whatever order the broker lists the aborted transactions in', () => {
    // Producer 1 aborts a transaction spanning 0-3; producer 2 aborts one spanning 1-2; producer 3 commits 4.
    // The broker lists aborted transactions by abort-marker offset: producer 2 (marker 2) before producer 1 (marker 3).
    const messages = [data(0, '1'), data(1, '2'), abortMarker(2, '2'), abortMarker(3, '1'), data(4, '3'), commitMarker(5, '3')];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [{ producerId: '2', firstOffset: '1' }, { producerId: '1', firstOffset: '0' }],
    });
    expect(kept.filter((m) => m.key?.toString() === 'k').map((m) => m.offset)).toEqual(['4']);
  });

  it('activates every aborted transaction that started before the first message it sees', () => {
    // A fetch that starts at offset 10, after two aborted transactions (first offsets 3 and 7) began.
    const messages = [data(10, '2'), data(11, '1'), abortMarker(12, '1'), abortMarker(13, '2'), data(14, '3')];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [{ producerId: '1', firstOffset: '3' }, { producerId: '2', firstOffset: '7' }],
    });
    expect(kept.filter((m) => m.key?.toString() === 'k').map((m) => m.offset)).toEqual(['14']);
  });
});
