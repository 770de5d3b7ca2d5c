/**
 * Avro object container files, read and written block by block without avsc's container streams: every
 * length, count and sync marker is checked and bounded by the bytes left, so a corrupt file fails with
 * MASKER_DECODE naming the block and its byte offset, in time bounded by its size.
 */
export type { BlockCodec } from './block-codec.js';
export { MAX_BLOCK_BYTES } from './block-codec.js';
export { ByteSource } from './byte-source.js';
export type { ContainerHeader } from './container-header.js';
export { CONTAINER_MAGIC, readContainerHeader } from './container-header.js';
export type { ContainerBlock } from './container-reader.js';
export { blockPlace, MAX_EMPTY_RECORDS, readContainerBlocks } from './container-reader.js';
export { ContainerWriter, encodeLong } from './container-writer.js';
export { RecordFraming } from './record-framing.js';
