import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

// kafkajs' produce path as patched (patches/kafkajs+2.2.4.patch): encoders sized up front instead of
// grown by doubling, and messages grouped per partition without copying the group on every message.
// The bytes on the wire must stay exactly upstream kafkajs 2.2.4's: the digests below were recorded
// with the unpatched encoders.
const require = createRequire(import.meta.url);
type Message = { key?: Buffer | string | null; value: Buffer | string | null; headers?: Record<string, Buffer | string | (Buffer | string)[]>; timestamp?: string; partition?: number };
type Encoded = { buf: Buffer; offset: number; buffer: Buffer };
const createRequest = require('kafkajs/src/protocol/request') as (args: { correlationId: number; clientId: string; request: { apiKey: number; apiVersion: number; encode: () => Promise<Encoded> } }) => Promise<Encoded>;
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: Record<string, unknown>) => { apiKey: number; apiVersion: number; encode: () => Promise<Encoded> };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: { topic: string; partitionMetadata: unknown[]; messages: Message[]; partitioner: (args: { message: Message }) => number }) => Record<string, Message[]>;
const Long = require('kafkajs/src/utils/long') as { fromValue: (v: string) => unknown };

/** Deterministic bytes: no Math.random, the digests must not move. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

const SIZES = [0, 1, 17, 127, 128, 511, 512, 513, 979, 2600, 4096, 70_000];

function messages(partition: number, count: number, withTimestamps: boolean): Message[] {
  return Array.from({ length: count }, (_, i) => {
    const size = SIZES[(i + partition) % SIZES.length]!;
    const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
    if (i % 3 === 0) headers['masker.plan'] = `plan-${i}`;
    if (i % 5 === 0) headers['multi'] = ['a', bytes(i, 40)];
    if (i % 7 === 0) headers['bin'] = bytes(i + 1, 300);
    return {
      key: i % 4 === 0 ? null : i % 4 === 1 ? String(i) : bytes(i + 7, 1 + (i % 90)),
      value: i % 11 === 10 ? null : i % 13 === 12 ? `text value ${i} ✓` : bytes(i + 100 * partition, size),
      headers,
      ...(withTimestamps ? { timestamp: String(1_700_000_000_000 + i * 37) } : {}),
    };
  });
}

async function produceRequestDigest(withTimestamps: boolean): Promise<{ sha256: string; length: number }> {
  const request = produceV3({
    acks: -1,
    timeout: 30_000,
    transactionalId: 'masker-bench-t-0',
    producerId: Long.fromValue('4711'),
    producerEpoch: 3,
    topicData: [
      { topic: 'staging.cdc.customers', partitions: [{ partition: 0, firstSequence: 12, messages: messages(0, 250, withTimestamps) }, { partition: 1, firstSequence: 0, messages: messages(1, 3, withTimestamps) }] },
      { topic: 'masker.audit', partitions: [{ partition: 2, firstSequence: 99, messages: messages(2, 40, withTimestamps) }] },
    ],
  });
  const payload = await createRequest({ correlationId: 42, clientId: 'masker', request });
  return { sha256: createHash('sha256').update(payload.buffer).digest('hex'), length: payload.buffer.length };
}

describe('kafkajs produce request encoding (patched sizing)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the same bytes as upstream kafkajs 2.2.4, messages with timestamps', async () => {
    expect(await produceRequestDigest(true)).toEqual(UPSTREAM.withTimestamps);
  });

  it('writes the same bytes as upstream kafkajs 2.2.4, messages without timestamps', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_123_456);
    expect(await produceRequestDigest(false)).toEqual(UPSTREAM.withoutTimestamps);
  });
});

describe('kafkajs groupMessagesPerPartition (patched)', () => {
  it('groups messages by the partitioner\'s choice, in their order', () => {
    const input: Message[] = Array.from({ length: 1000 }, (_, i) => ({ value: String(i), partition: (i * 7) % 3 }));
    const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages: input, partitioner: ({ message }) => message.partition! });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    for (const p of [0, 1, 2]) expect(grouped[String(p)]).toEqual(input.filter((m) => m.partition === p));
  });

  it('returns no groups without partition metadata', () => {
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ value: 'x' }], partitioner: () => 0 })).toEqual({});
  });
});

const UPSTREAM = {
  withTimestamps: { sha256: 'aa440d824e93be1c358226af626de37c8932f10ec1f171f46757fa97b1c642e1', length: 1_622_475 },
  withoutTimestamps: { sha256: 'cfeaedb3b9630c3f58458beb22096607e8a23e90a19804ce094034b62521f373', length: 1_622_159 },
};
