/**
 * The error catalogue. Every error masker raises on purpose is a MaskerError with a stable `code` and a
 * `disposition` telling the caller what to do:
 *  - `retry`      transient (broker, registry, Redis): back off and try the same record again
 *  - `quarantine` this record cannot be masked safely: send it (raw) to quarantine, audit, move on
 *  - `fatal`      misconfiguration: exit non-zero with a message naming the setting
 * Decide with `instanceof` / `code`, never by reading message text.
 * Messages say what was expected, what was found and where; they NEVER contain a record value.
 */
export type Disposition = 'retry' | 'quarantine' | 'fatal';

export const ERROR_CODES = {
  /** Value does not start with the Confluent magic byte 0 or is shorter than the 5-byte header. */
  MASKER_WIRE_FORMAT: 'quarantine',
  /** The registry answered that the schema id does not exist. */
  MASKER_SCHEMA_NOT_FOUND: 'quarantine',
  /** The registry could not be reached or answered 5xx. */
  MASKER_REGISTRY_UNAVAILABLE: 'retry',
  /** Avro bytes do not decode with the writer schema (truncated, trailing bytes, wrong schema). */
  MASKER_DECODE: 'quarantine',
  /** A policy document is invalid (strict validation failed). */
  MASKER_POLICY_INVALID: 'fatal',
  /** A policy cannot be applied to a schema (action incompatible with the field's type, ...). */
  MASKER_PLAN: 'quarantine',
  /** A masking action failed on a value. */
  MASKER_ACTION: 'quarantine',
  /** The record handed to the masking engine does not have the shape of the plan's schema. */
  MASKER_RECORD_SHAPE: 'quarantine',
  /** The masked record does not validate against its target schema. */
  MASKER_OUTPUT_INVALID: 'quarantine',
  /** The target subject refused the masked schema (compatibility). */
  MASKER_TARGET_SCHEMA_REJECTED: 'quarantine',
  /** The key is not Avro in the Confluent wire format while the route says `key: mask`. */
  MASKER_KEY_FORMAT: 'quarantine',
  /** A sensitive field has no rule and the policy says onUnmatchedSensitive: quarantine. */
  MASKER_UNMATCHED_SENSITIVE: 'quarantine',
  /** A detector found PII in a field no rule masks, and the policy says untagged.onDetected: quarantine. */
  MASKER_UNTAGGED_PII: 'quarantine',
  /** A writer schema brings fields not approved yet, and the policy says newFields: quarantine. */
  MASKER_NEW_FIELDS: 'quarantine',
  /** A record is larger than the configured maximum. */
  MASKER_RECORD_TOO_LARGE: 'quarantine',
  /** Configuration (env, config file, routes) is invalid. */
  MASKER_CONFIG: 'fatal',
  /** Secret key material is missing or malformed. */
  MASKER_SECRET: 'fatal',
  /** No policy could be loaded for a route. */
  MASKER_POLICY_MISSING: 'fatal',
  /** Kafka broker error that the client reports as retriable. */
  MASKER_KAFKA_UNAVAILABLE: 'retry',
  /** Bad input to an offline command (mask, policy validate). */
  MASKER_INPUT: 'fatal',
  /** A policy is unsigned or its Ed25519 signature does not verify while MASKER_POLICY_VERIFY_KEY is set. */
  MASKER_POLICY_SIGNATURE: 'fatal',
  /** Redis (policy store) could not be reached or refused a command. */
  MASKER_REDIS_UNAVAILABLE: 'retry',
} as const satisfies Record<string, Disposition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class MaskerError extends Error {
  readonly code: ErrorCode;
  readonly disposition: Disposition;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MaskerError';
    this.code = code;
    this.disposition = ERROR_CODES[code];
  }
}

export function isMaskerError(err: unknown): err is MaskerError {
  return err instanceof MaskerError;
}

/** The disposition of any thrown value: unknown errors are treated as `quarantine` (fail closed). */
export function dispositionOf(err: unknown): Disposition {
  return isMaskerError(err) ? err.disposition : 'quarantine';
}

/** A short, value-free description of any thrown value, safe for logs and audit events. */
export function describeError(err: unknown): { code: string; message: string } {
  if (isMaskerError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'MASKER_INTERNAL', message: err.name };
  return { code: 'MASKER_INTERNAL', message: typeof err };
}
