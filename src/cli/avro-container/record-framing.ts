import type { Type } from 'avsc';
import { MaskerError } from '../../errors.js';
import { compileRecordEnd, type RecordEnd } from '../../masking/index.js';

/**
 * Where each record of a container block ends, found with the masking engine's own framing walk
 * (`compileRecordEnd`, the one `countEncodedRecords` and `maskEncoded` use: every length, index and block
 * count checked and bounded by the bytes left).
 */
export class RecordFraming {
  private readonly recordEnd: RecordEnd;

  constructor(type: Type, schemaJson: unknown) {
    this.recordEnd = compileRecordEnd(type, schemaJson);
  }

  /**
   * Splits a block's records' bytes into `count` record bodies (views of `data`), checking that they are
   * exactly `count` whole records. Throws MASKER_DECODE naming the record (1-based within the block) and
   * the schema path where the framing breaks — never a value. Time is bounded by `data.length` and `count`.
   */
  split(data: Buffer, count: number): Buffer[] {
    const bodies: Buffer[] = [];
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const start = pos;
      try {
        pos = this.recordEnd(data, start);
      } catch (err) {
        if (err instanceof MaskerError) throw new MaskerError('MASKER_DECODE', `record ${i + 1} of ${count}: ${err.message}`);
        throw new MaskerError('MASKER_DECODE', `record ${i + 1} of ${count}: does not decode (${err instanceof Error ? err.name : typeof err})`);
      }
      bodies.push(data.subarray(start, pos));
    }
    if (pos !== data.length) {
      throw new MaskerError('MASKER_DECODE', `${data.length - pos} byte(s) after the block's ${count} record(s) (the count or the records are corrupt)`);
    }
    return bodies;
  }
}
