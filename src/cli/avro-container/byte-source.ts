import { MaskerError } from '../../errors.js';

const EMPTY = Buffer.alloc(0);

/**
 * Pull-style reads over a stream of chunks (a file or stdin), for parsing an Avro object container block
 * by block without holding the file: `read(n)` waits for exactly `n` bytes, `readLong` reads a zigzag
 * varint, `offset` is the file position of the next unread byte. Reading past the end throws
 * MASKER_DECODE ("the file ends inside …"); a failing input stream throws MASKER_INPUT.
 */
export class ByteSource {
  private readonly chunks: AsyncIterator<Buffer | string>;
  /** Unread bytes are `chunk[at..]`; `base` is the file offset of `chunk[0]`. */
  private chunk: Buffer = EMPTY;
  private at = 0;
  private base = 0;
  private ended = false;

  /** `size`, when known (a regular file), lets lengths be checked against the bytes left before reading. */
  constructor(input: AsyncIterable<Buffer | string>, private readonly name: string, private readonly size?: number) {
    this.chunks = input[Symbol.asyncIterator]();
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.at;
  }

  /** Bytes left in the file when its size is known, else undefined. */
  remaining(): number | undefined {
    return this.size === undefined ? undefined : Math.max(0, this.size - this.offset);
  }

  async atEnd(): Promise<boolean> {
    return (await this.fill(1)) === 0;
  }

  /** Exactly `n` bytes (a view, valid after later reads); `what` names the value for a truncation error. */
  async read(n: number, what: string): Promise<Buffer> {
    const left = this.remaining();
    if (left !== undefined && n > left) throw endsInside(what);
    if ((await this.fill(n)) < n) throw endsInside(what);
    const bytes = this.chunk.subarray(this.at, this.at + n);
    this.at += n;
    return bytes;
  }

  /** A zigzag varint (Avro long); exact up to 2^53, larger magnitudes approximate (callers bound them). */
  async readLong(what: string): Promise<number> {
    const available = await this.fill(10);
    const buf = this.chunk;
    let pos = this.at;
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === available) throw endsInside(what);
      if (i === 10) throw new MaskerError('MASKER_DECODE', `${what}: a varint longer than 10 bytes`);
      const b = buf[pos++]!;
      value += (b & 0x7f) * scale;
      scale *= 0x80;
      if (b < 0x80) break;
    }
    this.at = pos;
    return value % 2 === 1 ? -(value + 1) / 2 : value / 2;
  }

  /** Makes at least `n` unread bytes contiguous in `chunk` unless the input ends first; returns how many there are. */
  private async fill(n: number): Promise<number> {
    let available = this.chunk.length - this.at;
    if (available >= n || this.ended) return available;
    const parts: Buffer[] = [this.chunk.subarray(this.at)];
    while (available < n) {
      const next = await this.pull();
      if (next === undefined) {
        this.ended = true;
        break;
      }
      parts.push(next);
      available += next.length;
    }
    this.base += this.at;
    this.chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, available);
    this.at = 0;
    return available;
  }

  private async pull(): Promise<Buffer | undefined> {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await this.chunks.next();
    } catch (cause) {
      throw new MaskerError('MASKER_INPUT', `${this.name}: cannot read the input`, { cause });
    }
    if (next.done === true) return undefined;
    return typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
  }
}

function endsInside(what: string): MaskerError {
  return new MaskerError('MASKER_DECODE', `the file ends inside ${what} (truncated)`);
}
