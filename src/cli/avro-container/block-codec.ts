import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MaskerError } from '../../errors.js';

/** The codecs `masker mask` reads and writes. */
export type BlockCodec = 'null' | 'deflate';

/**
 * The largest block (compressed or not) accepted: Java's reader holds a block in one byte[] and its writer
 * flushes before 2^30 bytes, so no real file has a larger one; anything claiming more is corrupt.
 */
export const MAX_BLOCK_BYTES = 0x7fffffff;

/** Codecs of the Avro specification that need a library we do not ship (snappy: avsc has none built in). */
const UNSUPPORTED_SPEC_CODECS = new Set(['snappy', 'bzip2', 'xz', 'zstandard']);

/**
 * The header's `avro.codec` (absent means `null`). A codec the specification defines but we cannot read
 * is MASKER_INPUT (the file is fine; recode it, e.g. `avro-tools recodec --codec deflate`); any other
 * name is MASKER_DECODE (not an Avro codec: the header is corrupt).
 */
export function parseCodec(value: Buffer | undefined): BlockCodec {
  if (value === undefined) return 'null';
  const name = value.toString('latin1');
  if (name === 'null' || name === 'deflate') return name;
  if (UNSUPPORTED_SPEC_CODECS.has(name)) {
    throw new MaskerError('MASKER_INPUT', `the container file uses the "${name}" codec, which masker mask does not read (supported: null, deflate); recode it first, e.g. avro-tools recodec --codec deflate`);
  }
  // Neither quoted nor measured: a corrupted length can make this "name" run into the blocks' record values.
  throw new MaskerError('MASKER_DECODE', 'the header names an unknown codec (expected null or deflate)');
}

/** A block's payload as stored → its records' bytes. Bounded by MAX_BLOCK_BYTES of output. */
export function decompressBlock(codec: BlockCodec, stored: Buffer): Buffer {
  if (codec === 'null') return stored;
  try {
    return inflateRawSync(stored, { maxOutputLength: MAX_BLOCK_BYTES });
  } catch (err) {
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'error';
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new MaskerError('MASKER_DECODE', `the deflate data inflates to more than ${MAX_BLOCK_BYTES} bytes`);
    throw new MaskerError('MASKER_DECODE', `the deflate data does not inflate (zlib ${code})`);
  }
}

/** Records' bytes → a block's payload as stored. */
export function compressBlock(codec: BlockCodec, data: Buffer): Buffer {
  return codec === 'null' ? data : deflateRawSync(data);
}
