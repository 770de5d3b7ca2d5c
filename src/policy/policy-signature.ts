import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MaskerError } from '../errors.js';
import { canonicalJson } from './file-policy-store.js';

/**
 * Ed25519 signatures over the canonical JSON bytes of a policy document (keys sorted, no whitespace:
 * {@link canonicalJson}), so YAML and JSON forms of one document share a signature. Signatures are
 * base64 strings. Key material is never put in a message, a log line or an error cause.
 */
export const SIGNING_KEY_ENV = 'MASKER_POLICY_SIGNING_KEY';
export const VERIFY_KEY_ENV = 'MASKER_POLICY_VERIFY_KEY';

export interface PolicyKeys {
  /** From MASKER_POLICY_SIGNING_KEY: `push` signs with it. */
  readonly signingKey?: KeyObject;
  /** From MASKER_POLICY_VERIFY_KEY: when set, unsigned or badly signed policies are refused. */
  readonly verifyKey?: KeyObject;
}

/** Reads both keys from the environment (each a PEM or a path to a PEM file); unset → absent. */
export function policyKeysFromEnv(env: NodeJS.ProcessEnv = process.env): PolicyKeys {
  const signing = env[SIGNING_KEY_ENV];
  const verifying = env[VERIFY_KEY_ENV];
  return {
    ...(signing === undefined || signing.trim() === '' ? {} : { signingKey: loadSigningKey(signing) }),
    ...(verifying === undefined || verifying.trim() === '' ? {} : { verifyKey: loadVerifyKey(verifying) }),
  };
}

/** A PKCS#8 PEM Ed25519 private key, given inline or as a path. */
export function loadSigningKey(value: string, setting: string = SIGNING_KEY_ENV): KeyObject {
  const pem = pemOrFile(value, setting);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // No cause attached: OpenSSL errors are harmless, but nothing about private key bytes leaves here.
    throw new MaskerError('MASKER_CONFIG', `${setting}: expected a PEM (PKCS#8) Ed25519 private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new MaskerError('MASKER_CONFIG', `${setting}: expected an Ed25519 key, found ${key.asymmetricKeyType ?? 'unknown type'}`);
  }
  return key;
}

/** An SPKI PEM Ed25519 public key, given inline or as a path. */
export function loadVerifyKey(value: string, setting: string = VERIFY_KEY_ENV): KeyObject {
  const pem = pemOrFile(value, setting);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new MaskerError('MASKER_CONFIG', `${setting}: expected a PEM (SPKI) Ed25519 public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new MaskerError('MASKER_CONFIG', `${setting}: expected an Ed25519 key, found ${key.asymmetricKeyType ?? 'unknown type'}`);
  }
  return key;
}

function pemOrFile(value: string, setting: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value.trim(), 'utf8');
  } catch {
    throw new MaskerError('MASKER_CONFIG', `${setting}: expected a PEM key or the path of a readable PEM file`);
  }
}

/** Base64 Ed25519 signature of the document's canonical JSON bytes. */
export function signPolicyDoc(doc: unknown, key: KeyObject): string {
  return sign(null, Buffer.from(canonicalJson(doc), 'utf8'), key).toString('base64');
}

/** Whether `signature` is a valid signature of `doc` under `key`. Malformed signatures are simply invalid. */
export function isValidSignature(doc: unknown, signature: string, key: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64) return false;
  try {
    return verify(null, Buffer.from(canonicalJson(doc), 'utf8'), key, bytes);
  } catch {
    return false;
  }
}

/**
 * Refuses (MASKER_POLICY_SIGNATURE) an unsigned or badly signed document when a verify key is given;
 * without a verify key anything passes. `where` names the policy/version for the message.
 */
export function assertPolicySignature(doc: unknown, signature: string | undefined, verifyKey: KeyObject | undefined, where: string): void {
  if (verifyKey === undefined) return;
  if (signature === undefined || signature === '') {
    throw new MaskerError('MASKER_POLICY_SIGNATURE', `${where}: unsigned, but ${VERIFY_KEY_ENV} is set (push with ${SIGNING_KEY_ENV})`);
  }
  if (!isValidSignature(doc, signature, verifyKey)) {
    throw new MaskerError('MASKER_POLICY_SIGNATURE', `${where}: signature does not verify with ${VERIFY_KEY_ENV} (document changed or signed with another key)`);
  }
}
