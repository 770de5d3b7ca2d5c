import { MaskerError } from '../../errors.js';
import type { BlockCodec } from './block-codec.js';
import { parseCodec } from './block-codec.js';
import type { ByteSource } from './byte-source.js';

/** The first bytes of every Avro object container file. */
export const CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
export const SYNC_BYTES = 16;

/** A header larger than this is refused: schemas are kilobytes, not tens of megabytes. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface ContainerHeader {
  /** The writer schema's JSON text (`avro.schema`), not yet parsed. */
  readonly schemaText: string;
  readonly codec: BlockCodec;
  /** The 16 bytes every block of the file must end with. */
  readonly sync: Buffer;
}

/**
 * Reads and checks a container header: magic `Obj\x01`, the metadata map (each block's count bounded by
 * the bytes it can hold, a negative count's byte size matching its entries, no repeated key, the whole
 * header at most MAX_HEADER_BYTES), `avro.schema` present, `avro.codec` one we read, the sync marker.
 * Fails with MASKER_DECODE naming the byte offset at fault (MASKER_INPUT for a codec we do not read).
 */
export async function readContainerHeader(src: ByteSource): Promise<ContainerHeader> {
  let at = src.offset;
  try {
    const magic = await src.read(CONTAINER_MAGIC.length, 'the magic bytes');
    if (!magic.equals(CONTAINER_MAGIC)) throw new MaskerError('MASKER_DECODE', 'not an Avro object container file (it does not start with Obj\\x01)');
    const meta = new Map<string, Buffer>();
    for (;;) {
      at = src.offset;
      let count = await src.readLong('a metadata block count');
      if (count === 0) break;
      let size: number | undefined;
      if (count < 0) {
        count = -count;
        size = await src.readLong('a metadata block byte size');
        if (size < 0) throw new MaskerError('MASKER_DECODE', 'a metadata block with a negative byte size');
      }
      // An entry is at least two bytes (the key's and the value's lengths).
      const left = Math.min(src.remaining() ?? Infinity, MAX_HEADER_BYTES);
      if (count * 2 > left || (size !== undefined && (size > left || count * 2 > size))) {
        throw new MaskerError('MASKER_DECODE', `a metadata block count${size === undefined ? '' : ' or byte size'} larger than the bytes left can hold`);
      }
      const entriesStart = src.offset;
      for (let i = 0; i < count; i++) {
        at = src.offset;
        const key = (await readSized(src, 'a metadata key')).toString('utf8');
        const value = await readSized(src, `the value of ${describeKey(key)}`);
        if (meta.has(key)) throw new MaskerError('MASKER_DECODE', `${describeKey(key)} appears twice`);
        meta.set(key, value);
      }
      if (size !== undefined && src.offset - entriesStart !== size) {
        at = entriesStart;
        throw new MaskerError('MASKER_DECODE', 'a metadata block byte size that does not match its entries');
      }
    }
    at = src.offset;
    const schema = meta.get('avro.schema');
    if (schema === undefined) throw new MaskerError('MASKER_DECODE', 'the metadata has no avro.schema (the writer schema)');
    const codec = parseCodec(meta.get('avro.codec'));
    const sync = Buffer.from(await src.read(SYNC_BYTES, 'the sync marker'));
    return { schemaText: schema.toString('utf8'), codec, sync };
  } catch (err) {
    if (err instanceof MaskerError && err.code === 'MASKER_DECODE') {
      throw new MaskerError('MASKER_DECODE', `container header, at byte ${at}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * A metadata key for a message: only the keys we read are quoted. Any other may be bytes of the blocks
 * (record values) that a corrupted length made part of the header. For the same reason no message quotes
 * a count or length read from the header: after a corrupted length it may be record bytes.
 */
function describeKey(key: string): string {
  return key === 'avro.schema' || key === 'avro.codec' ? `metadata key "${key}"` : 'a metadata key';
}

/** A length-prefixed byte string of the header, its length bounded by the header's maximum and the file. */
async function readSized(src: ByteSource, what: string): Promise<Buffer> {
  const n = await src.readLong(`the length of ${what}`);
  if (n < 0) throw new MaskerError('MASKER_DECODE', `${what} with a negative length`);
  if (src.offset + n > MAX_HEADER_BYTES) throw new MaskerError('MASKER_DECODE', `${what} that would make the header larger than ${MAX_HEADER_BYTES} bytes`);
  return src.read(n, what);
}
