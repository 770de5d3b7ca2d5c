import type { Type } from 'avsc';
import { MaskerError } from '../../errors.js';
import type { Step } from '../../masking/avro-bytes.js';
import { Cursor, skipper } from '../../masking/avro-bytes.js';
import { buildSchemaTree } from '../../masking/schema-tree.js';

/**
 * Where each record of a container block ends. The masking engine's public byte path masks one record
 * body (`maskEncoded`) and counts a block's records (`countEncodedRecords`) but does not say where they
 * end, so this walks a block with the engine's own framing walk (the one `countEncodedRecords` and
 * `maskEncoded` use: every length, index and block count checked and bounded by the bytes left). It reads
 * engine internals; if `src/masking` grows a public "record ends" function, this file should use it.
 */
export class RecordFraming {
  private readonly skip: Step;

  constructor(type: Type, schemaJson: unknown) {
    this.skip = skipper(buildSchemaTree(type, schemaJson), '');
  }

  /**
   * Splits a block's records' bytes into `count` record bodies (views of `data`), checking that they are
   * exactly `count` whole records. Throws MASKER_DECODE naming the record (1-based within the block) and
   * the schema path where the framing breaks — never a value. Time is bounded by `data.length` and `count`.
   */
  split(data: Buffer, count: number): Buffer[] {
    const bodies: Buffer[] = [];
    const c = new Cursor(data, 0, data.length);
    for (let i = 0; i < count; i++) {
      const start = c.pos;
      try {
        this.skip(c);
      } catch (err) {
        if (err instanceof MaskerError) throw new MaskerError('MASKER_DECODE', `record ${i + 1} of ${count}: ${err.message}`);
        throw new MaskerError('MASKER_DECODE', `record ${i + 1} of ${count}: does not decode (${err instanceof Error ? err.name : typeof err})`);
      }
      bodies.push(data.subarray(start, c.pos));
    }
    if (c.pos !== data.length) {
      throw new MaskerError('MASKER_DECODE', `${data.length - c.pos} byte(s) after the block's ${count} record(s) (the count or the records are corrupt)`);
    }
    return bodies;
  }
}
