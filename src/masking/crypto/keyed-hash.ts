import { createHash } from 'node:crypto';
import { compress, SHA256_IV, writeState } from './sha256.js';

/**
 * HMAC-SHA256 bound to one key and one domain.
 *
 *   digest(value) = HMAC-SHA256(key, domainBlock ‖ value)
 *   domainBlock   = UTF-8(domain) ‖ 0x00, zero-padded to a multiple of 64 bytes
 *
 * Strings are hashed as their UTF-8 bytes. This is a standard HMAC (reproducible with any HMAC library);
 * the domain padding only lets the engine pre-absorb key and domain into saved SHA-256 midstates, so a
 * value shorter than 56 bytes costs two compressions. One instance per (key, domain), cached by the plan.
 *
 * The digest methods return a shared 32-byte view that the next digest call (of any hasher) overwrites:
 * read what you need from it at once, copy it to keep it (this saves an allocation per masked value).
 */
export class KeyedHasher {
  private readonly innerState: Int32Array;
  private readonly outerState: Int32Array;
  /** Bytes already absorbed into innerState: the ipad block plus the domain blocks. */
  private readonly prefixLength: number;

  constructor(secret: Uint8Array, domain: string) {
    const key = secret.length > 64 ? new Uint8Array(createHash('sha256').update(secret).digest()) : secret;
    const ipad = new Uint8Array(64).fill(0x36);
    const opad = new Uint8Array(64).fill(0x5c);
    for (let i = 0; i < key.length; i++) {
      ipad[i] = ipad[i]! ^ key[i]!;
      opad[i] = opad[i]! ^ key[i]!;
    }
    const domainBytes = encoder.encode(domain);
    const domainBlock = new Uint8Array(Math.ceil((domainBytes.length + 1) / 64) * 64);
    domainBlock.set(domainBytes);
    this.innerState = new Int32Array(SHA256_IV);
    compress(this.innerState, ipad, 0);
    for (let off = 0; off < domainBlock.length; off += 64) compress(this.innerState, domainBlock, off);
    this.outerState = new Int32Array(SHA256_IV);
    compress(this.outerState, opad, 0);
    this.prefixLength = 64 + domainBlock.length;
  }

  /** HMAC of the UTF-8 bytes of `text`, in the shared digest view (see class comment). */
  digestString(text: string): Uint8Array {
    ensureScratch(text.length * 3 + 72);
    const written = encoder.encodeInto(text, scratch).written;
    return this.finish(written);
  }

  /** HMAC of raw bytes, in the shared digest view (see class comment). */
  digestBytes(bytes: Uint8Array): Uint8Array {
    ensureScratch(bytes.length + 72);
    scratch.set(bytes, 0);
    return this.finish(bytes.length);
  }

  /** Message of `n` bytes is in scratch[0..n): pad, run the inner and the outer hash. */
  private finish(n: number): Uint8Array {
    const buf = scratch;
    const padded = ((n + 8) >>> 6) * 64 + 64;
    buf[n] = 0x80;
    buf.fill(0, n + 1, padded - 8);
    writeLength(buf, padded, this.prefixLength + n);
    state.set(this.innerState);
    for (let off = 0; off < padded; off += 64) compress(state, buf, off);
    writeState(state, outerBlock, 0);
    outerBlock[32] = 0x80;
    outerBlock.fill(0, 33, 56);
    writeLength(outerBlock, 64, 64 + 32);
    state.set(this.outerState);
    compress(state, outerBlock, 0);
    writeState(state, digestView, 0);
    return digestView;
  }
}

const encoder = new TextEncoder();
const state = new Int32Array(8);
const outerBlock = new Uint8Array(64);
const digestView = new Uint8Array(32);
let scratch = new Uint8Array(1024);

function ensureScratch(size: number): void {
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
}

/** Writes the SHA-256 bit length of a `byteLength`-byte message into the last 8 bytes before `end`. */
function writeLength(buf: Uint8Array, end: number, byteLength: number): void {
  const bits = byteLength * 8;
  const high = Math.floor(bits / 0x100000000);
  const low = bits >>> 0;
  buf[end - 8] = high >>> 24;
  buf[end - 7] = (high >>> 16) & 0xff;
  buf[end - 6] = (high >>> 8) & 0xff;
  buf[end - 5] = high & 0xff;
  buf[end - 4] = low >>> 24;
  buf[end - 3] = (low >>> 16) & 0xff;
  buf[end - 2] = (low >>> 8) & 0xff;
  buf[end - 1] = low & 0xff;
}

/** Unsigned 32-bit big-endian integer at `offset` of a digest. */
export function readU32(d: Uint8Array, offset: number): number {
  return ((d[offset]! << 24) | (d[offset + 1]! << 16) | (d[offset + 2]! << 8) | d[offset + 3]!) >>> 0;
}

/** Unsigned integer in [0, 2^53) from the digest bytes at `offset` (7 bytes). */
export function readU53(d: Uint8Array, offset: number): number {
  const high = ((d[offset]! & 0x1f) << 16) | (d[offset + 1]! << 8) | d[offset + 2]!;
  return high * 0x100000000 + readU32(d, offset + 3);
}

/** Deterministically stretches a digest to `size` bytes (SHA-256 counter mode over the digest). */
export function expandDigest(digest: Uint8Array, size: number): Buffer {
  if (size <= digest.length) return Buffer.from(digest.subarray(0, size));
  const parts: Buffer[] = [Buffer.from(digest)];
  for (let counter = 1; parts.length * 32 < size; counter++) {
    parts.push(createHash('sha256').update(digest).update(String(counter)).digest());
  }
  return Buffer.concat(parts).subarray(0, size);
}
