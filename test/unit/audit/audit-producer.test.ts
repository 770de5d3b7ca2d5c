import type { Kafka, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AuditProducer } from '../../../src/audit/audit-producer.js';

/** A kafkajs stand-in whose sends wait until released, recording what was sent. */
function fakeKafka(fail: () => boolean = () => false): { kafka: Kafka; sent: ProducerRecord[]; release: () => void } {
  const sent: ProducerRecord[] = [];
  let waiting: (() => void)[] = [];
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send: (record: ProducerRecord) => new Promise((resolve, reject) => {
      waiting.push(() => {
        if (fail()) reject(new Error('broker down'));
        else {
          sent.push(record);
          resolve([]);
        }
      });
    }),
  };
  const release = (): void => {
    const now = waiting;
    waiting = [];
    for (const w of now) w();
  };
  return { kafka: { producer: () => producer } as unknown as Kafka, sent, release };
}

const msg = (key: string): { key: string; value: Buffer } => ({ key, value: Buffer.from(`{"k":"${key}"}`) });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('AuditProducer', () => {
  it('refuses writes before start', async () => {
    await expect(new AuditProducer(fakeKafka().kafka, 't').write([msg('a')])).rejects.toThrow(/not started/);
  });

  it('batches writes made while a send is in flight into the next send, acks=all, and resolves each on ack', async () => {
    const { kafka, sent, release } = fakeKafka();
    const p = new AuditProducer(kafka, 'audit');
    await p.start();
    const first = p.write([msg('a')]);
    const second = p.write([msg('b')]);
    const third = p.write([msg('c')]);
    release();
    await first;
    await tick();
    release();
    await Promise.all([second, third]);
    expect(sent.map((r) => [r.topic, r.acks, r.messages.map((m) => m.key)])).toEqual([['audit', -1, ['a']], ['audit', -1, ['b', 'c']]]);
    await p.stop();
  });

  it('rejects the writes of a failed send, and what is still queued at stop', async () => {
    const { kafka, release } = fakeKafka(() => true);
    const p = new AuditProducer(kafka, 'audit');
    await p.start();
    const w = p.write([msg('a')]);
    release();
    await expect(w).rejects.toThrow('broker down');
    await p.stop();
    await expect(p.write([msg('b')])).rejects.toThrow(/not started/);
  });
});
