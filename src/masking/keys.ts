/**
 * Secret key material for keyed actions (hash, pseudonymize, date-shift). Loading it from the
 * environment is the config layer's job (src/config/secrets.ts); the engine only sees this shape.
 */
export interface MaskingKey {
  /** Recorded in audit events so a reader knows which key produced a pseudonym. Never the secret. */
  readonly id: string;
  readonly secret: Uint8Array;
}

/** Several keys, one active. Only the active key masks; the others are kept for rotation bookkeeping. */
export interface KeyRing {
  readonly active: MaskingKey;
  readonly keys: ReadonlyMap<string, MaskingKey>;
}
