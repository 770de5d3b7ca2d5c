import avro from 'avsc';

/**
 * Avro types for showing records to people (`masker tail`): longs decode to bigint (no precision lost,
 * hashed longs use the whole range), and logical types decode to readable text — decimal bytes/fixed to
 * the number (`"1234.56"`), `date` to `2026-11-28`, `time-*` to `09:30:00.123`, `timestamp-*` to ISO 8601
 * (`local-timestamp-*` without the `Z`), with as many fraction digits as the unit has. A value a logical
 * type cannot show (a date past year 275760) stays its number. Use {@link toReadable} on what they decode.
 */
export function readableType(schemaJson: unknown): avro.Type {
  // Every long decodes to bigint, under a logical type too. avsc asks the hook twice for a long with a
  // logical type — once for the schema (answered: no, so the logical type is built), then for its
  // underlying type with the same schema object (answered: the bigint long).
  const seenLogical = new WeakSet<object>();
  const typeHook = (schema: avro.Schema): avro.Type | undefined => {
    if (schema === 'long') return BIG_LONG;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || (schema as { type?: unknown }).type !== 'long') return undefined;
    if ((schema as { logicalType?: unknown }).logicalType === undefined || seenLogical.has(schema)) return BIG_LONG;
    seenLogical.add(schema);
    return undefined;
  };
  return avro.Type.forSchema(schemaJson as avro.Schema, {
    typeHook,
    logicalTypes: {
      decimal: DecimalText,
      date: DateText,
      'time-millis': TimeText,
      'time-micros': TimeText,
      'timestamp-millis': TimestampText,
      'timestamp-micros': TimestampText,
      'timestamp-nanos': TimestampText,
      'local-timestamp-millis': TimestampText,
      'local-timestamp-micros': TimestampText,
      'local-timestamp-nanos': TimestampText,
    },
  });
}

/** 64-bit longs as bigint (avsc's default refuses longs beyond 2^53). */
const BIG_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(0),
  toBuffer: (n: bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | string): bigint => BigInt(n),
  toJSON: (n: bigint): number | string => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
  isValid: (n: unknown): boolean => typeof n === 'bigint',
  compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});

interface LogicalSchema {
  readonly type: unknown;
  readonly logicalType?: string;
  readonly scale?: unknown;
}

/** The unit of a time or timestamp logical type, in digits after the second. */
function fractionDigits(logicalType: string | undefined): number {
  if (logicalType?.endsWith('nanos') === true) return 9;
  if (logicalType?.endsWith('micros') === true) return 6;
  return 3;
}

function asBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return undefined;
}

/** Floor division and the non-negative remainder. */
function divMod(n: bigint, d: bigint): [bigint, bigint] {
  const q = n / d;
  const r = n % d;
  return r < 0n ? [q - 1n, r + d] : [q, r];
}

/** Largest |ms| a JS Date holds. */
const MAX_DATE_MS = 8_640_000_000_000_000n;

/** Encoding is never needed by tail; a logical value written back is refused. */
abstract class ReadOnlyLogical extends avro.types.LogicalType {
  protected override _toValue(): never {
    throw new Error('masker tail decodes only');
  }

  protected override _resolve(): undefined {
    return undefined;
  }
}

class DecimalText extends ReadOnlyLogical {
  private readonly scale: number;

  constructor(schema: avro.Schema, opts?: object) {
    super(schema, opts);
    const scale = (schema as LogicalSchema).scale;
    this.scale = typeof scale === 'number' && Number.isInteger(scale) && scale >= 0 ? scale : 0;
  }

  protected override _fromValue(value: unknown): unknown {
    if (!Buffer.isBuffer(value)) return value;
    return decimalText(value, this.scale);
  }
}

/** Big-endian two's complement bytes with `scale` digits after the point, as decimal text. */
export function decimalText(bytes: Buffer, scale: number): string {
  if (bytes.length === 0) return '0';
  let n = BigInt(`0x${bytes.toString('hex')}`);
  if ((bytes[0] ?? 0) & 0x80) n -= 1n << BigInt(bytes.length * 8);
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

class DateText extends ReadOnlyLogical {
  protected override _fromValue(value: unknown): unknown {
    const days = asBigInt(value);
    if (days === undefined) return value;
    const ms = days * 86_400_000n;
    if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return value;
    return new Date(Number(ms)).toISOString().slice(0, 10);
  }
}

class TimeText extends ReadOnlyLogical {
  private readonly digits: number;

  constructor(schema: avro.Schema, opts?: object) {
    super(schema, opts);
    this.digits = fractionDigits((schema as LogicalSchema).logicalType);
  }

  protected override _fromValue(value: unknown): unknown {
    const n = asBigInt(value);
    if (n === undefined || n < 0n) return value;
    const unit = 10n ** BigInt(this.digits);
    const [seconds, fraction] = divMod(n, unit);
    if (seconds >= 86_400n) return value;
    const s = Number(seconds);
    const hh = String(Math.floor(s / 3600)).padStart(2, '0');
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
    const ss = String(s % 60).padStart(2, '0');
    return `${hh}:${mm}:${ss}.${fraction.toString().padStart(this.digits, '0')}`;
  }
}

class TimestampText extends ReadOnlyLogical {
  private readonly digits: number;
  private readonly local: boolean;

  constructor(schema: avro.Schema, opts?: object) {
    super(schema, opts);
    const logicalType = (schema as LogicalSchema).logicalType;
    this.digits = fractionDigits(logicalType);
    this.local = logicalType?.startsWith('local-') === true;
  }

  protected override _fromValue(value: unknown): unknown {
    const n = asBigInt(value);
    if (n === undefined) return value;
    const [seconds, fraction] = divMod(n, 10n ** BigInt(this.digits));
    const ms = seconds * 1000n;
    if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return value;
    const iso = new Date(Number(ms)).toISOString(); // …T09:30:00.000Z
    return `${iso.slice(0, iso.length - 5)}.${fraction.toString().padStart(this.digits, '0')}${this.local ? '' : 'Z'}`;
  }
}

/**
 * A decoded Avro value made plain for JSON: bigint → number when safe, else decimal text; bytes/fixed →
 * their UTF-8 text when that is printable, else `0x` + hex; NaN and ±Infinity → text. Records, maps,
 * arrays and wrapped unions keep their shape.
 */
export function toReadable(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Buffer.isBuffer(value)) return bytesText(value);
  if (Array.isArray(value)) return value.map(toReadable);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toReadable(v);
    return out;
  }
  return value;
}

/** Printable UTF-8 as text, anything else as `0x` + hex. */
export function bytesText(bytes: Buffer): string {
  const text = printableUtf8(bytes);
  return text ?? `0x${bytes.toString('hex')}`;
}

/** The bytes as text when they are valid UTF-8 without control characters (tab and newlines allowed). */
export function printableUtf8(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}
