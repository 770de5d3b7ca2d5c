import { MaskerError } from '../errors.js';

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro binary body. */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export interface WireFrame {
  readonly schemaId: number;
  readonly body: Buffer;
}

/** Splits a framed payload. `where` (e.g. `topic/partition@offset value`) goes into the error message. */
export function readFrame(payload: Buffer, where: string): WireFrame {
  if (payload.length < HEADER_BYTES) {
    throw new MaskerError('MASKER_WIRE_FORMAT', `${where}: expected ≥ ${HEADER_BYTES} bytes of Confluent wire format, got ${payload.length}`);
  }
  const magic = payload.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new MaskerError('MASKER_WIRE_FORMAT', `${where}: expected magic byte 0, found ${magic}`);
  }
  return { schemaId: payload.readUInt32BE(1), body: payload.subarray(HEADER_BYTES) };
}

/** Prepends the 5-byte header to an Avro body. */
export function writeFrame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  writeHeader(out, schemaId);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Writes the 5-byte header into the first bytes of `frame` (a body written after HEADER_BYTES of room). */
export function writeHeader(frame: Buffer, schemaId: number): void {
  frame.writeUInt8(MAGIC_BYTE, 0);
  frame.writeUInt32BE(schemaId, 1);
}
