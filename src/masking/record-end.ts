import type { Type } from 'avsc';
import { Cursor, skipper } from './avro-bytes.js';
import { buildSchemaTree } from './schema-tree.js';

/** Where the Avro record starting at `start` in `data` ends (the offset just after it). */
export type RecordEnd = (data: Buffer, start: number) => number;

/**
 * Compiles, once per schema, a finder of record ends for a buffer of whole Avro records (an object
 * container block): the engine's own framing walk — every length, union and enum index and block count
 * checked and bounded by the bytes left, nothing decoded. It throws MASKER_DECODE naming the schema path
 * where the framing breaks (never a value), MASKER_PLAN when the schema JSON does not match the Type.
 */
export function compileRecordEnd(type: Type, schemaJson: unknown): RecordEnd {
  const skip = skipper(buildSchemaTree(type, schemaJson), '');
  return (data, start) => {
    const c = new Cursor(data, start, data.length);
    skip(c);
    return c.pos;
  };
}
