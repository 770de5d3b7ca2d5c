import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { BlockCodec } from './block-codec.js';
import { compressBlock } from './block-codec.js';
import { CONTAINER_MAGIC, SYNC_BYTES } from './container-header.js';

/**
 * Writes an Avro object container file: a header holding `avro.schema` and `avro.codec` only, then one
 * block per `writeBlock` call, each ending with the file's sync marker. The sync marker is fresh random
 * bytes, as every Avro writer makes it: reusing the input's would tie a masked file to its source.
 * Writes wait for the stream to drain, so nothing more than one block is held.
 */
export class ContainerWriter {
  readonly sync: Buffer;

  constructor(private readonly out: NodeJS.WritableStream, private readonly codec: BlockCodec, sync: Buffer = randomBytes(SYNC_BYTES)) {
    this.sync = sync;
  }

  async writeHeader(schemaText: string): Promise<void> {
    const entries: Buffer[] = [];
    for (const [key, value] of [['avro.schema', Buffer.from(schemaText, 'utf8')], ['avro.codec', Buffer.from(this.codec, 'utf8')]] as const) {
      const keyBytes = Buffer.from(key, 'utf8');
      entries.push(encodeLong(keyBytes.length), keyBytes, encodeLong(value.length), value);
    }
    await this.write(Buffer.concat([CONTAINER_MAGIC, encodeLong(2), ...entries, encodeLong(0), this.sync]));
  }

  /** One block of whole record bodies; an empty list writes nothing. */
  async writeBlock(records: readonly Buffer[]): Promise<void> {
    if (records.length === 0) return;
    const payload = compressBlock(this.codec, Buffer.concat(records));
    await this.write(Buffer.concat([encodeLong(records.length), encodeLong(payload.length), payload, this.sync]));
  }

  private async write(bytes: Buffer): Promise<void> {
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }
}

/** An Avro long (zigzag varint), exact up to 2^53. */
export function encodeLong(n: number): Buffer {
  const bytes: number[] = [];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
  return Buffer.from(bytes);
}
