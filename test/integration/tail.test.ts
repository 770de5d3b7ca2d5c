import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/cli-worker.js';
import { createTopics, deleteTopics, endpoints, testKafka, testRegistry, unique } from './support/services.js';

/** `masker tail`: decoded records, the newest by default, and it always exits (bin, as a user runs it). */

const BIN = resolve(import.meta.dirname, '../../bin/masker.js');
const BASE_TIME = Date.UTC(2026, 10, 28, 9, 0, 0);
const COUNT = 16;
const schema = {
  type: 'record',
  name: 'Payment',
  namespace: 'it.tail',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
    { name: 'booked', type: { type: 'int', logicalType: 'date' } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'hashed', type: 'long' },
    { name: 'blob', type: 'bytes' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

interface Run { code: Promise<number | null>; stdout: () => string; stderr: () => string; kill: (signal: NodeJS.Signals) => void }

interface JsonLine {
  partition: number;
  offset: string;
  timestamp: string;
  key: unknown;
  value: Record<string, unknown> | null;
  valueFormat: string;
  valueSchemaId?: number;
}

function tail(args: string[]): Run {
  const { brokers, registryUrl } = endpoints();
  const child = spawn(process.execPath, [BIN, 'tail', ...args], {
    env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  return { code: new Promise((r) => child.once('exit', (c) => r(c))), stdout: () => stdout, stderr: () => stderr, kill: (s) => child.kill(s) };
}

/** Exits within `ms` (never hangs at the end offsets), with its exit code. */
async function exited(run: Run, ms = 45_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'hung'>((r) => { timer = setTimeout(() => r('hung'), ms); });
  const code = await Promise.race([run.code, timeout]);
  clearTimeout(timer);
  if (code === 'hung') {
    run.kill('SIGKILL');
    throw new Error(`masker tail did not exit within ${ms} ms; stderr: ${run.stderr()}`);
  }
  return code;
}

const lines = (run: Run): JsonLine[] => run.stdout().trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonLine);

describe('masker tail', () => {
  const kafka: Kafka = testKafka();
  const registry = testRegistry();
  const topic = unique('it.tail.avro');
  const audit = unique('it.tail.audit');

  beforeAll(async () => {
    await createTopics(kafka, [topic, audit], 2, { 'retention.ms': '-1' });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
    const producer = kafka.producer();
    await producer.connect();
    // Records n = 0..15, one second apart, alternating partitions: only a merge by time gives n in order.
    for (let n = 0; n < COUNT; n++) {
      const value = await registry.encode(id, {
        // amount 1234 + n with scale 2: "12.34" + n cents
        n, amount: Buffer.from([0x04, 0xd2 + n]), booked: 20_000 + n, at: BASE_TIME + n * 1000,
        hashed: 0, blob: Buffer.from([0xff, n]), note: n === 3 ? 'plain note' : null,
      });
      await producer.send({ topic, messages: [{ partition: n % 2, key: `k${n}`, value, timestamp: String(BASE_TIME + n * 1000) }] });
    }
    await producer.send({ topic, messages: [{ partition: 0, key: 'gone', value: null, timestamp: String(BASE_TIME + COUNT * 1000) }] });
    await producer.disconnect();

    // The audit topic as masker writes it: JSON in transactions, so transaction markers (and here aborted
    // transactions) take offsets between the records.
    const tx = kafka.producer({ transactionalId: unique('it-tail-tx'), idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    for (let i = 0; i < 12; i++) {
      const aborted = await tx.transaction();
      await aborted.send({ topic: audit, messages: [{ partition: 0, key: 'orders', value: JSON.stringify({ schema: 'masker.audit/v1', type: 'chunk', seq: -1 }) }] });
      await aborted.abort();
      const committed = await tx.transaction();
      await committed.send({ topic: audit, messages: [{ partition: 0, key: 'orders', value: JSON.stringify({ schema: 'masker.audit/v1', type: 'chunk', seq: i }), timestamp: String(BASE_TIME + i) }] });
      await committed.commit();
    }
    await tx.disconnect();
  });

  afterAll(async () => {
    await deleteTopics(kafka, [topic, audit]);
  });

  it('shows the newest N records, merged by time across partitions, values readable, and exits', async () => {
    const run = tail([topic, '-n', '5', '--json']);
    expect(await exited(run), run.stderr()).toBe(0);
    const out = lines(run);
    expect(out.map((l) => (l.value === null ? 'tombstone' : l.value['n']))).toEqual([12, 13, 14, 15, 'tombstone']);
    const last = out[3]!;
    expect(last).toMatchObject({ partition: 1, key: 'k15', valueFormat: 'avro', timestamp: new Date(BASE_TIME + 15_000).toISOString() });
    expect(last.value).toEqual({
      n: 15, amount: '12.49', // bytes 0x04e1 = 1249, scale 2
      booked: new Date((20_000 + 15) * 86_400_000).toISOString().slice(0, 10),
      at: new Date(BASE_TIME + 15_000).toISOString(),
      hashed: 0, blob: '0xff0f', note: null,
    });
    expect(out[4]).toMatchObject({ partition: 0, key: 'gone', value: null, valueFormat: 'null' });
  });

  it('--from-beginning shows the first N; --from TIME the first N at or after it', async () => {
    const first = tail([topic, '--from-beginning', '-n', '3', '--json']);
    expect(await exited(first), first.stderr()).toBe(0);
    expect(lines(first).map((l) => l.value?.['n'])).toEqual([0, 1, 2]);
    expect(first.stderr()).toContain('more records after these, up to the end offsets: raise -n');

    const from = tail([topic, '--from', new Date(BASE_TIME + 7_000).toISOString(), '-n', '2', '--json']);
    expect(await exited(from), from.stderr()).toBe(0);
    expect(lines(from).map((l) => l.value?.['n'])).toEqual([7, 8]);
  });

  it('prints readable text by default: time, position, key, the value on the next line, tombstones said', async () => {
    const run = tail([topic, '-n', '2']);
    expect(await exited(run), run.stderr()).toBe(0);
    const text = run.stdout();
    expect(text).toContain(`${new Date(BASE_TIME + 15_000).toISOString()}  ${topic}/1@7  key "k15"  schema `);
    expect(text).toMatch(/\n {2}\{"n":15,"amount":"12\.\d\d","booked":"2024-/);
    expect(text).toContain(`${topic}/0@8  key "gone"\n  (tombstone: no value)\n`);
    expect(run.stderr()).toContain(`tail: 2 record(s) of ${topic} (newest, -n 2; end offsets read at the start)`);
  });

  it('shows audit JSON as it is, the newest even when markers and aborted transactions take most offsets', async () => {
    const run = tail([audit, '-n', '5', '--json']);
    expect(await exited(run), run.stderr()).toBe(0);
    const out = lines(run);
    expect(out.map((l) => l.valueFormat)).toEqual(['json', 'json', 'json', 'json', 'json']);
    expect(out.map((l) => (l.value as { seq: number }).seq)).toEqual([7, 8, 9, 10, 11]);
    expect(out[0]).toMatchObject({ key: 'orders', value: { schema: 'masker.audit/v1', type: 'chunk' } });
  });

  it('refuses an unknown topic (exit 2) and exits on an empty one', async () => {
    const missing = tail([unique('it.tail.none')]);
    expect(await exited(missing)).toBe(2);
    expect(missing.stderr()).toMatch(/masker: MASKER_INPUT: topic it\.tail\.none-\S+ does not exist/);
    const empty = unique('it.tail.empty');
    await createTopics(kafka, [empty], 1);
    try {
      const run = tail([empty]);
      expect(await exited(run)).toBe(0);
      expect(run.stdout()).toBe('');
      expect(run.stderr()).toContain(`tail: 0 record(s) of ${empty}`);
    } finally {
      await deleteTopics(kafka, [empty]);
    }
  });

  it('--follow prints records produced after the end offsets, and Ctrl-C ends it cleanly (exit 0)', async () => {
    const run = tail([topic, '-n', '1', '--follow', '--json']);
    await waitFor('the first record', async () => run.stderr().includes('following: Ctrl-C stops'), 30_000, 100);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ partition: 1, value: await registry.encode(id, { n: 99, amount: Buffer.from([1]), booked: 0, at: 0, hashed: 0, blob: Buffer.alloc(0), note: null }) }] });
    await producer.disconnect();
    await waitFor('the new record', async () => run.stdout().includes('"n":99'), 30_000, 100);
    run.kill('SIGINT');
    expect(await exited(run, 15_000)).toBe(0);
    const values = lines(run).map((l) => (l.value === null ? 'tombstone' : l.value['n']));
    expect(values).toEqual(['tombstone', 99]);
  });
});
