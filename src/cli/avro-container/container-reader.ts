import { MaskerError } from '../../errors.js';
import { decompressBlock, MAX_BLOCK_BYTES } from './block-codec.js';
import type { ByteSource } from './byte-source.js';
import type { ContainerHeader } from './container-header.js';
import { SYNC_BYTES } from './container-header.js';

/**
 * Records of a type that encodes to no bytes (an empty record, `null`) take no room, so their count cannot
 * be bounded by the block's size; a block claiming more than this many records beyond its byte count is
 * refused rather than looped over.
 */
export const MAX_EMPTY_RECORDS = 1_000_000;

export interface ContainerBlock {
  /** 1-based, in file order. */
  readonly index: number;
  /** File offset of the block's first byte (its record count). */
  readonly offset: number;
  /** Record count, as the block declares it: at most max(data.length, MAX_EMPTY_RECORDS). */
  readonly count: number;
  /** The records' bytes, decompressed. */
  readonly data: Buffer;
}

/** `block 3 at byte 1234`: where a block starts, for messages. */
export function blockPlace(block: Pick<ContainerBlock, 'index' | 'offset'>): string {
  return `block ${block.index} at byte ${block.offset}`;
}

/**
 * The blocks after a header, one at a time (only the current one is held): a record count (>= 0), a byte
 * size (bounded by the bytes left and MAX_BLOCK_BYTES), the payload, a sync marker equal to the header's.
 * Ends cleanly only at the end of the input right after a sync marker. A corrupt or truncated block throws
 * MASKER_DECODE naming its index and byte offset; the blocks before it have been yielded. Every loop
 * consumes input or is bounded by a constant, so time is bounded by the input's size.
 */
export async function* readContainerBlocks(src: ByteSource, header: ContainerHeader): AsyncGenerator<ContainerBlock> {
  for (let index = 1; !(await src.atEnd()); index++) {
    const offset = src.offset;
    let block: ContainerBlock;
    try {
      const count = await src.readLong('the block\'s record count');
      // Counts and sizes are not quoted before the sync marker is checked: after a header whose lengths
      // were corrupted, they may be read from record bytes.
      if (count < 0) throw new MaskerError('MASKER_DECODE', 'a negative record count');
      const size = await src.readLong('the block\'s byte size');
      if (size < 0) throw new MaskerError('MASKER_DECODE', 'a negative byte size');
      const left = src.remaining();
      if (size > MAX_BLOCK_BYTES || (left !== undefined && size > left)) {
        throw new MaskerError('MASKER_DECODE', `a byte size larger than the ${left === undefined ? MAX_BLOCK_BYTES : Math.min(left, MAX_BLOCK_BYTES)} bytes left`);
      }
      const stored = await src.read(size, 'the block\'s records');
      const sync = await src.read(SYNC_BYTES, 'the block\'s sync marker');
      if (!sync.equals(header.sync)) throw new MaskerError('MASKER_DECODE', 'the sync marker after the block differs from the header\'s (corrupt or misaligned block)');
      const data = decompressBlock(header.codec, stored);
      if (count > Math.max(data.length, MAX_EMPTY_RECORDS)) {
        throw new MaskerError('MASKER_DECODE', `a record count of ${count}, more than its ${data.length} bytes can hold`);
      }
      block = { index, offset, count, data };
    } catch (err) {
      if (err instanceof MaskerError && err.code === 'MASKER_DECODE') {
        throw new MaskerError('MASKER_DECODE', `${blockPlace({ index, offset })}: ${err.message}`);
      }
      throw err;
    }
    yield block;
  }
}
