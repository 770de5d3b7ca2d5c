import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { decimalText, readableType, toReadable } from '../../../src/cli/tail/readable-avro.js';
import { RecordDecoder } from '../../../src/cli/tail/record-decoder.js';
import { formatRecord, safeJson } from '../../../src/cli/tail/tail-format.js';
import { MaskerError } from '../../../src/errors.js';
import { writeFrame } from '../../../src/registry/wire-format.js';

/** `masker tail`'s decoding and printing, without Kafka. */

const schema = {
  type: 'record', name: 'Row', fields: [
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 3 } },
    { name: 'fixedPrice', type: { type: 'fixed', name: 'Money', size: 4, logicalType: 'decimal', precision: 9, scale: 2 } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'clock', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'micros', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'local', type: { type: 'long', logicalType: 'local-timestamp-millis' } },
    { name: 'big', type: 'long' },
    { name: 'ratio', type: 'double' },
    { name: 'text', type: 'bytes' },
  ],
};
const plain = avro.Type.forSchema(schema as avro.Schema);
const row = {
  price: Buffer.from([0xff, 0xfe]), // -2 with scale 3
  fixedPrice: Buffer.from([0, 0, 0x30, 0x39]), // 12345 with scale 2
  day: 19_000,
  clock: 3_723_004, // 01:02:03.004
  micros: -1, // one microsecond before the epoch
  local: 1_700_000_000_123,
  big: 0, // replaced by 2^62 below
  ratio: Number.NaN,
  text: Buffer.from('plain text'),
};

function registry(schemas: Record<number, unknown>): { schemaById(id: number): Promise<{ schema: string; schemaType: string; metadata: unknown }> } {
  return {
    schemaById: (id) => (schemas[id] === undefined
      ? Promise.reject(new MaskerError('MASKER_SCHEMA_NOT_FOUND', `schema id ${id} not found`))
      : Promise.resolve({ schema: JSON.stringify(schemas[id]), schemaType: 'AVRO', metadata: undefined })),
  };
}

describe('readable Avro', () => {
  it('shows decimals, dates, times and timestamps as text, longs whole, bytes as text or hex', () => {
    // `big` is 2^62 (a long beyond 2^53, as hashed ids are): its zigzag varint written by hand between the
    // encodings of the fields before and after it.
    const part = (names: string[]): Buffer => avro.Type.forSchema({ ...schema, fields: schema.fields.filter((f) => names.includes(f.name)) } as avro.Schema)
      .toBuffer(Object.fromEntries(names.map((n) => [n, row[n as keyof typeof row]])));
    const big = Buffer.concat([
      part(['price', 'fixedPrice', 'day', 'clock', 'micros', 'local']),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      part(['ratio', 'text']),
    ]);
    expect(toReadable(readableType(schema).fromBuffer(big))).toEqual({
      price: '-0.002', fixedPrice: '123.45', day: '2022-01-08', clock: '01:02:03.004',
      micros: '1969-12-31T23:59:59.999999Z', local: '2023-11-14T22:13:20.123', big: '4611686018427387904',
      ratio: 'NaN', text: 'plain text',
    });
  });

  it('decimal text keeps the sign and leading zeros', () => {
    expect(decimalText(Buffer.from([0x00, 0x05]), 3)).toBe('0.005');
    expect(decimalText(Buffer.from([0x80]), 0)).toBe('-128');
    expect(decimalText(Buffer.alloc(0), 2)).toBe('0');
  });
});

describe('RecordDecoder', () => {
  it('decodes the wire format via the registry, JSON as it is, text, and hex with a note', async () => {
    const decoder = new RecordDecoder(registry({ 7: schema, 8: 'string' }));
    expect(await decoder.decode(writeFrame(7, plain.toBuffer({ ...row, ratio: 0.5 })))).toMatchObject({ format: 'avro', schemaId: 7, value: { price: '-0.002', ratio: 0.5 } });
    expect(await decoder.decode(writeFrame(8, avro.Type.forSchema('string').toBuffer('a key')))).toEqual({ format: 'avro', schemaId: 8, value: 'a key' });
    expect(await decoder.decode(Buffer.from('{"schema":"masker.audit/v1","type":"chunk"}'))).toEqual({ format: 'json', value: { schema: 'masker.audit/v1', type: 'chunk' } });
    expect(await decoder.decode(Buffer.from('customers'))).toEqual({ format: 'text', value: 'customers' });
    expect(await decoder.decode(Buffer.from([0x01, 0x02, 0xff]))).toEqual({ format: 'hex', value: '0x0102ff' });
    expect(await decoder.decode(writeFrame(9, Buffer.from([2])))).toEqual({ format: 'hex', value: '0x000000000902', note: 'wire format, but schema id 9 is not in the registry' });
    // A block count of 2^29 items in 3 bytes: refused by the framing check before avsc would allocate.
    const arrays = new RecordDecoder(registry({ 5: { type: 'record', name: 'A', fields: [{ name: 'xs', type: { type: 'array', items: 'long' } }] } }));
    expect(await arrays.decode(writeFrame(5, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04])))).toMatchObject({ format: 'hex', note: 'wire format, but the bytes do not decode with schema id 5' });
    expect(await decoder.decode(null)).toEqual({ format: 'null', value: null });
  });

  it('shows wire-format bytes as hex when SCHEMA_REGISTRY_URL is not set', async () => {
    expect(await new RecordDecoder(undefined).decode(writeFrame(7, Buffer.from([0])))).toMatchObject({ format: 'hex', note: 'wire format, but SCHEMA_REGISTRY_URL is not set' });
  });
});

describe('printing', () => {
  it('escapes what a terminal would act on, keeping valid JSON', () => {
    const text = safeJson({ s: 'a\u001b[2Jb\u009b31m\u202eevil\u2028' });
    expect(text).toBe('{"s":"a\\u001b[2Jb\\u009b31m\\u202eevil\\u2028"}');
    expect(JSON.parse(text)).toEqual({ s: 'a\u001b[2Jb\u009b31m\u202eevil\u2028' });
  });

  it('prints one JSON line, or a header line and the value', () => {
    const record = {
      topic: 't', partition: 1, offset: '42', timestamp: String(Date.UTC(2026, 10, 28, 9)),
      key: { format: 'text', value: 'k' } as const, value: { format: 'avro', schemaId: 3, value: { a: 1 } } as const,
      headers: [['trace-id', Buffer.from('abc')] as const],
    };
    expect(JSON.parse(formatRecord(record, true))).toEqual({
      topic: 't', partition: 1, offset: '42', timestamp: '2026-11-28T09:00:00.000Z', key: 'k', keyFormat: 'text',
      value: { a: 1 }, valueFormat: 'avro', valueSchemaId: 3, headers: { 'trace-id': 'abc' },
    });
    expect(formatRecord(record, false)).toBe('2026-11-28T09:00:00.000Z  t/1@42  key "k"  headers {"trace-id":"abc"}  schema 3\n  {"a":1}\n');
  });
});
