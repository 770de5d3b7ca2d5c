import { readFileSync } from 'node:fs';
import { MaskerError } from '../errors.js';
import type { KeyRing, MaskingKey } from '../masking/keys.js';

/** Secrets shorter than this many bytes are refused: a short HMAC key makes pseudonyms guessable. */
export const MIN_SECRET_BYTES = 16;

/**
 * Reads the key ring from `MASKER_SECRET` or `MASKER_SECRET_FILE` (exactly one of them).
 *
 * Accepted forms (the same in the variable and the file):
 *  - a plain secret string (≥ 16 bytes): one key with id `default`
 *  - JSON `{"active": "k2", "keys": {"k1": "<secret>", "k2": "<secret>"}}` for rotation
 * A secret written as `base64:<...>` is decoded from base64; otherwise its UTF-8 bytes are used.
 * Error messages name the setting and never contain key material. They do not start with the setting's
 * name: the CLI prints the code (MASKER_SECRET) before them, and `MASKER_SECRET: MASKER_SECRET: …` read badly.
 */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing {
  const inline = env['MASKER_SECRET'];
  const file = env['MASKER_SECRET_FILE'];
  if (inline !== undefined && inline !== '' && file !== undefined && file !== '') {
    throw new MaskerError('MASKER_SECRET', 'set only one of MASKER_SECRET and MASKER_SECRET_FILE, not both');
  }
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new MaskerError('MASKER_SECRET', `cannot read the file MASKER_SECRET_FILE names (${file})`, { cause });
    }
    return parseKeyRing(text.trim(), 'MASKER_SECRET_FILE');
  }
  if (inline !== undefined && inline !== '') return parseKeyRing(inline, 'MASKER_SECRET');
  throw new MaskerError(
    'MASKER_SECRET',
    'no masking key: set MASKER_SECRET (≥ 16 bytes, or JSON {"active","keys"}) or MASKER_SECRET_FILE',
  );
}

export function parseKeyRing(text: string, setting: string): KeyRing {
  if (!text.startsWith('{')) {
    const key = makeKey('default', text, `the secret in ${setting}`);
    return { active: key, keys: new Map([[key.id, key]]) };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new MaskerError('MASKER_SECRET', `${setting} starts with "{" but is not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new MaskerError('MASKER_SECRET', `${setting} must be a JSON object {"active", "keys"}`);
  }
  const { active, keys, ...rest } = doc as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new MaskerError('MASKER_SECRET', `unknown key(s) ${extra.join(', ')} in ${setting} (expected "active" and "keys")`);
  if (typeof active !== 'string' || active === '') {
    throw new MaskerError('MASKER_SECRET', `"active" in ${setting} must be a key id string`);
  }
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new MaskerError('MASKER_SECRET', `"keys" in ${setting} must be an object of key id → secret`);
  }
  const ring = new Map<string, MaskingKey>();
  for (const [id, secret] of Object.entries(keys as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new MaskerError('MASKER_SECRET', `a key id in ${setting} does not match [A-Za-z0-9._-]{1,64}`);
    }
    if (typeof secret !== 'string') throw new MaskerError('MASKER_SECRET', `key "${id}" in ${setting} must be a string`);
    ring.set(id, makeKey(id, secret, `key "${id}" in ${setting}`));
  }
  const activeKey = ring.get(active);
  if (activeKey === undefined) {
    throw new MaskerError('MASKER_SECRET', `"active" in ${setting}: "${active.slice(0, 64)}" is not one of the ids in keys`);
  }
  return { active: activeKey, keys: ring };
}

/** `what` names the secret for messages ("the secret in MASKER_SECRET"); the error code already says MASKER_SECRET. */
function makeKey(id: string, text: string, what: string): MaskingKey {
  const secret = text.startsWith('base64:') ? Buffer.from(text.slice(7), 'base64') : Buffer.from(text, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new MaskerError('MASKER_SECRET', `${what} must be at least ${MIN_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  return { id, secret: new Uint8Array(secret) };
}
