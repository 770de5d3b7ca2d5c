import { PassThrough, Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { BlockCodec, ContainerBlock, ContainerHeader } from '../../../src/cli/avro-container/index.js';
import { ByteSource, ContainerWriter, encodeLong, readContainerBlocks, readContainerHeader, RecordFraming } from '../../../src/cli/avro-container/index.js';
import { MaskerError } from '../../../src/errors.js';

const schemaJson = {
  type: 'record',
  name: 'Person',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'phones', type: { type: 'array', items: 'string' } },
  ],
} as unknown as avro.Schema;
const type = avro.Type.forSchema(schemaJson);
const people = Array.from({ length: 12 }, (_, i) => ({ id: i, email: `person${i}@example.org`, phones: i % 3 === 0 ? [] : [`555-010${i}`] }));

/** A container written by avsc, small blocks so that there are several. */
async function avscContainer(codec: BlockCodec, records: readonly unknown[] = people, blockSize = 64): Promise<Buffer> {
  const encoder = new avro.streams.BlockEncoder(schemaJson, { codec, blockSize });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => encoder.on('end', resolve));
  for (const r of records) encoder.write(r);
  encoder.end();
  await ended;
  return Buffer.concat(chunks);
}

/** Decodes a container with avsc (the reference reader). */
async function avscRecords(bytes: Buffer): Promise<unknown[]> {
  const decoder = new avro.streams.BlockDecoder();
  const records: unknown[] = [];
  decoder.on('data', (r: unknown) => records.push(r));
  const ended = new Promise((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  decoder.end(bytes);
  await ended;
  return records;
}

function source(bytes: Buffer, options: { chunk?: number; sized?: boolean } = {}): ByteSource {
  const chunk = options.chunk ?? 4096;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  return new ByteSource(Readable.from(chunks), 'test', options.sized === true ? bytes.length : undefined);
}

interface ReadResult { header?: ContainerHeader; blocks: ContainerBlock[]; error?: MaskerError }

async function readAll(bytes: Buffer, options: { chunk?: number; sized?: boolean } = {}): Promise<ReadResult> {
  const src = source(bytes, options);
  const result: ReadResult = { blocks: [] };
  try {
    const header = await readContainerHeader(src);
    result.header = header;
    for await (const block of readContainerBlocks(src, header)) result.blocks.push(block);
  } catch (err) {
    if (!(err instanceof MaskerError)) throw err;
    result.error = err;
  }
  return result;
}

/** A header built byte by byte: magic, metadata blocks as given (already encoded), sync marker. */
function rawHeader(metaBlocks: Buffer, sync = Buffer.alloc(16, 7)): Buffer {
  return Buffer.concat([Buffer.from('Obj\x01', 'latin1'), metaBlocks, sync]);
}

function entry(key: string, value: string | Buffer): Buffer {
  const k = Buffer.from(key);
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([encodeLong(k.length), k, encodeLong(v.length), v]);
}

const SCHEMA_ENTRY = entry('avro.schema', JSON.stringify(schemaJson));

/** Offsets of each block's first byte, found from the sync marker (the header's last 16 bytes before block 1). */
function blockOffsets(bytes: Buffer, sync: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = bytes.indexOf(sync); at !== -1 && at + 16 < bytes.length; at = bytes.indexOf(sync, at + 16)) offsets.push(at + 16);
  return offsets;
}

describe('container reader', () => {
  for (const codec of ['null', 'deflate'] as const) {
    it(`reads a ${codec} file written by avsc block by block, and its records split as avsc encodes them`, async () => {
      const bytes = await avscContainer(codec);
      for (const chunk of [1, 7, 4096]) {
        const { header, blocks, error } = await readAll(bytes, { chunk });
        expect(error).toBeUndefined();
        expect(header?.codec).toBe(codec);
        expect(JSON.parse(header?.schemaText ?? '')).toMatchObject({ name: 'Person' });
        expect(blocks.length).toBeGreaterThan(2);
        expect(blocks.map((b) => b.index)).toEqual(blocks.map((_, i) => i + 1));
        expect(blocks.map((b) => b.offset)).toEqual(blockOffsets(bytes, header!.sync));
        const framing = new RecordFraming(type, schemaJson);
        const bodies = blocks.flatMap((b) => framing.split(b.data, b.count));
        expect(bodies).toEqual(people.map((p) => type.toBuffer(p)));
      }
    });
  }

  it('reads a header-only file (no blocks) as zero blocks', async () => {
    const { header, blocks, error } = await readAll(rawHeader(Buffer.concat([encodeLong(1), SCHEMA_ENTRY, encodeLong(0)])));
    expect(error).toBeUndefined();
    expect(header?.codec).toBe('null');
    expect(blocks).toEqual([]);
  });

  it('accepts a metadata block with a negative count and its exact byte size', async () => {
    const entries = Buffer.concat([SCHEMA_ENTRY, entry('avro.codec', 'deflate')]);
    const { header, error } = await readAll(rawHeader(Buffer.concat([encodeLong(-2), encodeLong(entries.length), entries, encodeLong(0)])));
    expect(error).toBeUndefined();
    expect(header?.codec).toBe('deflate');
  });
});

describe('container reader: corrupt headers fail fast with MASKER_DECODE and the byte offset', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['bad magic', Buffer.concat([Buffer.from('Obj\x02', 'latin1'), encodeLong(1), SCHEMA_ENTRY, encodeLong(0), Buffer.alloc(16)]), /container header, at byte 0: not an Avro object container file/],
    ['a huge metadata count', rawHeader(Buffer.concat([encodeLong(2 ** 31 - 1), SCHEMA_ENTRY, encodeLong(0)])), /at byte 4: a metadata block count larger than the bytes left can hold/],
    ['a count near 2^62', rawHeader(Buffer.concat([Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), SCHEMA_ENTRY, encodeLong(0)])), /at byte 4: a metadata block count larger than the bytes left can hold/],
    ['a negative count with a huge byte size', rawHeader(Buffer.concat([encodeLong(-1), encodeLong(2 ** 40), SCHEMA_ENTRY, encodeLong(0)])), /at byte 4: a metadata block count or byte size larger than the bytes left can hold/],
    ['a negative count with a negative byte size', rawHeader(Buffer.concat([encodeLong(-1), encodeLong(-5), SCHEMA_ENTRY, encodeLong(0)])), /at byte 4: a metadata block with a negative byte size/],
    ['a negative count whose byte size lies', rawHeader(Buffer.concat([encodeLong(-1), encodeLong(SCHEMA_ENTRY.length - 1), SCHEMA_ENTRY, encodeLong(0)])), /at byte \d+: a metadata block byte size that does not match its entries/],
    ['a count of -2^63 (varint of 10 bytes)', rawHeader(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), encodeLong(3), SCHEMA_ENTRY])), /at byte 4: a metadata block/],
    ['a varint longer than 10 bytes', rawHeader(Buffer.concat([Buffer.alloc(11, 0xff), Buffer.from([0x01]), SCHEMA_ENTRY])), /a varint longer than 10 bytes/],
    ['a negative key length', rawHeader(Buffer.concat([encodeLong(1), encodeLong(-3), SCHEMA_ENTRY, encodeLong(0)])), /a metadata key with a negative length/],
    ['a value longer than the file', rawHeader(Buffer.concat([encodeLong(1), entry('avro.schema', '').subarray(0, 12), encodeLong(100_000), Buffer.from('{}')])), /the file ends inside the value of metadata key "avro.schema"/],
    ['a repeated key', rawHeader(Buffer.concat([encodeLong(2), SCHEMA_ENTRY, SCHEMA_ENTRY, encodeLong(0)])), /metadata key "avro.schema" appears twice/],
    ['no avro.schema', rawHeader(Buffer.concat([encodeLong(1), entry('avro.codec', 'null'), encodeLong(0)])), /the metadata has no avro.schema/],
    ['an unknown codec', rawHeader(Buffer.concat([encodeLong(2), SCHEMA_ENTRY, entry('avro.codec', 'deflatz'), encodeLong(0)])), /the header names an unknown codec \(expected null or deflate\)$/],
    ['a file that ends in the sync marker', rawHeader(Buffer.concat([encodeLong(1), SCHEMA_ENTRY, encodeLong(0)])).subarray(0, -5), /the file ends inside the sync marker/],
    ['a file that ends in the magic', Buffer.from('Obj', 'latin1'), /at byte 0: the file ends inside the magic bytes/],
  ];
  for (const [name, bytes, message] of cases) {
    it(name, async () => {
      for (const sized of [true, false]) {
        const started = Date.now();
        const { header, error } = await readAll(bytes, { sized, chunk: 5 });
        expect(header).toBeUndefined();
        expect(error?.code).toBe('MASKER_DECODE');
        expect(error?.message).toMatch(/^container header, at byte \d+: /);
        expect(error?.message).toMatch(message);
        expect(Date.now() - started).toBeLessThan(2000);
      }
    });
  }

  it('never quotes header bytes a corrupted length may have taken from the blocks (record values)', async () => {
    const record = type.toBuffer({ id: 1, email: 'secret@example.org', phones: [] });
    const block = Buffer.concat([encodeLong(1), encodeLong(record.length), record, Buffer.alloc(16, 7)]);
    // avro.codec's length (4, "null") corrupted to take in the map's end, the sync marker and the first
    // block (the bytes after it happen to end a map and hold 16 bytes for a sync marker).
    const swallowed = Buffer.concat([Buffer.from('null'), encodeLong(0), Buffer.alloc(16, 7), block]);
    const codecLength = rawHeader(Buffer.concat([encodeLong(2), SCHEMA_ENTRY, entry('avro.codec', swallowed), encodeLong(0)]));
    const unknownKeys = rawHeader(Buffer.concat([encodeLong(3), SCHEMA_ENTRY, entry('secret@example.org', 'x'), entry('secret@example.org', 'y'), encodeLong(0)]));
    for (const [bytes, message] of [[codecLength, /an unknown codec \(expected null or deflate\)$/], [unknownKeys, /: a metadata key appears twice$/]] as const) {
      const { error } = await readAll(Buffer.concat([bytes, block]));
      expect(error?.code).toBe('MASKER_DECODE');
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('secret');
    }
  });

  it('refuses snappy (avsc has no snappy codec built in) with MASKER_INPUT naming it', async () => {
    const { error } = await readAll(rawHeader(Buffer.concat([encodeLong(2), SCHEMA_ENTRY, entry('avro.codec', 'snappy'), encodeLong(0)])));
    expect(error?.code).toBe('MASKER_INPUT');
    expect(error?.message).toMatch(/"snappy" codec, which masker mask does not read \(supported: null, deflate\)/);
  });
});

describe('container reader: corrupt blocks', () => {
  async function corrupted(codec: BlockCodec, corrupt: (bytes: Buffer, offsets: number[]) => Buffer): Promise<{ result: ReadResult; offsets: number[] }> {
    const bytes = await avscContainer(codec);
    const { header } = await readAll(bytes);
    const offsets = blockOffsets(bytes, header!.sync);
    const result = await readAll(corrupt(Buffer.from(bytes), offsets), { sized: true });
    return { result, offsets };
  }

  it('a wrong sync marker after block 2: block 1 is read, the error names block 2 and its offset', async () => {
    const { result, offsets } = await corrupted('null', (bytes, offsets) => {
      bytes[offsets[2]! - 1]! ^= 0xff; // the last byte of block 2's sync marker
      return bytes;
    });
    expect(result.blocks).toHaveLength(1);
    expect(result.error?.code).toBe('MASKER_DECODE');
    expect(result.error?.message).toBe(`block 2 at byte ${offsets[1]}: the sync marker after the block differs from the header's (corrupt or misaligned block)`);
  });

  it('a negative record count', async () => {
    const { result, offsets } = await corrupted('null', (bytes, offsets) => {
      bytes[offsets[1]!] = 0x03; // zigzag -2
      return bytes;
    });
    expect(result.blocks).toHaveLength(1);
    expect(result.error?.message).toBe(`block 2 at byte ${offsets[1]}: a negative record count`);
  });

  it('a byte size beyond the end of the file', async () => {
    for (const sized of [true, false]) {
      const bytes = await avscContainer('deflate');
      const { header } = await readAll(bytes);
      const offsets = blockOffsets(bytes, header!.sync);
      const bad = Buffer.concat([bytes.subarray(0, offsets[1]! + 1), encodeLong(2 ** 45), bytes.subarray(offsets[1]! + 2)]);
      const result = await readAll(bad, { sized });
      expect(result.blocks).toHaveLength(1);
      expect(result.error?.message).toMatch(new RegExp(`^block 2 at byte ${offsets[1]}: (a byte size larger than the \\d+ bytes left|the file ends inside the block's records)`));
    }
  });

  it('a truncated file: every whole block is read, the error names the last one', async () => {
    for (const codec of ['null', 'deflate'] as const) {
      const bytes = await avscContainer(codec);
      const { header, blocks } = await readAll(bytes);
      const offsets = blockOffsets(bytes, header!.sync);
      for (const cut of [1, 10, 17]) {
        const result = await readAll(bytes.subarray(0, bytes.length - cut));
        expect(result.blocks).toHaveLength(blocks.length - 1);
        expect(result.error?.code).toBe('MASKER_DECODE');
        expect(result.error?.message).toMatch(new RegExp(`^block ${blocks.length} at byte ${offsets.at(-1)}: the file ends inside`));
      }
    }
  });

  it('deflate data that does not inflate', async () => {
    const { result, offsets } = await corrupted('deflate', (bytes, offsets) => {
      bytes.fill(0xff, offsets[1]! + 2, offsets[2]! - 16);
      return bytes;
    });
    expect(result.blocks).toHaveLength(1);
    expect(result.error?.message).toMatch(new RegExp(`^block 2 at byte ${offsets[1]}: the deflate data does not inflate \\(zlib Z_`));
  });

  it('a record count larger than the block can hold is refused before any record is split', async () => {
    const header = rawHeader(Buffer.concat([encodeLong(1), SCHEMA_ENTRY, encodeLong(0)]));
    const data = Buffer.from([0x02, 0x00, 0x00]);
    const bytes = Buffer.concat([header, encodeLong(2 ** 40), encodeLong(data.length), data, Buffer.alloc(16, 7)]);
    const result = await readAll(bytes);
    expect(result.error?.message).toBe(`block 1 at byte ${header.length}: a record count of 1099511627776, more than its 3 bytes can hold`);
  });
});

describe('record framing', () => {
  const framing = new RecordFraming(type, schemaJson);

  it('refuses a block with bytes after its records, or fewer bytes than its count', () => {
    const data = Buffer.concat([type.toBuffer(people[1]), type.toBuffer(people[2])]);
    expect(framing.split(data, 2)).toHaveLength(2);
    expect(() => framing.split(data, 1)).toThrow(/byte\(s\) after the block's 1 record\(s\)/);
    expect(() => framing.split(data, 3)).toThrow(/^record 3 of 3: Avro body does not decode at id: the body ends inside this value/);
  });

  it('names the record and the schema path of a corrupt array count, never a value', () => {
    const data = Buffer.concat([type.toBuffer(people[1]), type.toBuffer({ id: 9, email: 'SECRET@example.org', phones: ['x'] })]);
    const at = data.lastIndexOf(Buffer.from([0x02, 0x02, 0x78, 0x00])); // phones: count 1, "x", end
    Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]).copy(data, at, 0, 4); // a count of 2^29 in its place
    let error: unknown;
    try {
      framing.split(data, 2);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MaskerError);
    expect((error as MaskerError).code).toBe('MASKER_DECODE');
    expect((error as MaskerError).message).toMatch(/^record 2 of 2: Avro body does not decode at phones/);
    expect((error as MaskerError).message).not.toContain('SECRET');
  });
});

describe('container writer', () => {
  for (const codec of ['null', 'deflate'] as const) {
    it(`writes a ${codec} file avsc reads back, with a fresh sync marker`, async () => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const writer = new ContainerWriter(out, codec);
      await writer.writeHeader(JSON.stringify(schemaJson));
      await writer.writeBlock(people.slice(0, 5).map((p) => type.toBuffer(p)));
      await writer.writeBlock([]);
      await writer.writeBlock(people.slice(5).map((p) => type.toBuffer(p)));
      const bytes = Buffer.concat(chunks);
      expect(await avscRecords(bytes)).toEqual(people.map((p) => type.clone(p)));
      const { header, blocks } = await readAll(bytes);
      expect(header?.codec).toBe(codec);
      expect(header?.sync).toEqual(writer.sync);
      expect(blocks.map((b) => b.count)).toEqual([5, 7]);
      if (codec === 'deflate') expect(bytes.includes(deflateRawSync(Buffer.concat(people.slice(0, 5).map((p) => type.toBuffer(p)))))).toBe(true);
      const other = new ContainerWriter(new PassThrough(), codec);
      expect(other.sync.equals(writer.sync)).toBe(false);
    });
  }

  it('writes a header-only file for no records', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await new ContainerWriter(out, 'null').writeHeader(JSON.stringify(schemaJson));
    expect(await avscRecords(Buffer.concat(chunks))).toEqual([]);
  });
});
