import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMaskerError } from '../../../src/errors.js';
import {
  assertPolicySignature, isValidSignature, loadSigningKey, loadVerifyKey, policyKeysFromEnv, signPolicyDoc,
} from '../../../src/policy/policy-signature.js';

const doc = { apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'x', rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' }] };
const pair = generateKeyPairSync('ed25519');
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const dir = mkdtempSync(join(tmpdir(), 'masker-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isMaskerError(err) ? err.code : String(err);
  }
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (err) {
    return err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : String(err);
  }
}

describe('policy signatures (Ed25519 over canonical JSON)', () => {
  it('accepts a good signature', () => {
    const sig = signPolicyDoc(doc, pair.privateKey);
    expect(isValidSignature(doc, sig, pair.publicKey)).toBe(true);
    expect(() => assertPolicySignature(doc, sig, pair.publicKey, 'redis x v1')).not.toThrow();
  });

  it('signs the canonical form: key order and YAML-vs-JSON do not matter', () => {
    const sig = signPolicyDoc(doc, pair.privateKey);
    const reordered = { rules: doc.rules, name: 'x', kind: 'MaskingPolicy', apiVersion: 'masker/v1' };
    expect(isValidSignature(reordered, sig, pair.publicKey)).toBe(true);
  });

  it('refuses a missing signature when a verify key is set, and lets anything pass without one', () => {
    expect(codeOf(() => assertPolicySignature(doc, undefined, pair.publicKey, 'w'))).toBe('MASKER_POLICY_SIGNATURE');
    expect(codeOf(() => assertPolicySignature(doc, '', pair.publicKey, 'w'))).toBe('MASKER_POLICY_SIGNATURE');
    expect(codeOf(() => assertPolicySignature(doc, undefined, undefined, 'w'))).toBeUndefined();
  });

  it('refuses a signature made with another key', () => {
    const other = generateKeyPairSync('ed25519');
    const sig = signPolicyDoc(doc, other.privateKey);
    expect(codeOf(() => assertPolicySignature(doc, sig, pair.publicKey, 'w'))).toBe('MASKER_POLICY_SIGNATURE');
  });

  it('refuses a tampered document', () => {
    const sig = signPolicyDoc(doc, pair.privateKey);
    const tampered = { ...doc, rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'keep', params: { reason: 'x' } }] };
    expect(isValidSignature(tampered, sig, pair.publicKey)).toBe(false);
    expect(codeOf(() => assertPolicySignature(tampered, sig, pair.publicKey, 'w'))).toBe('MASKER_POLICY_SIGNATURE');
  });

  it('treats malformed signatures as invalid rather than throwing', () => {
    for (const bad of ['not base64!', 'AAAA', Buffer.alloc(64).toString('base64')]) {
      expect(isValidSignature(doc, bad, pair.publicKey)).toBe(false);
    }
  });

  it('loads keys from inline PEM or from a file path', () => {
    const privPath = join(dir, 'signing.pem');
    const pubPath = join(dir, 'verify.pem');
    writeFileSync(privPath, privatePem);
    writeFileSync(pubPath, publicPem);
    const keys = policyKeysFromEnv({ MASKER_POLICY_SIGNING_KEY: privPath, MASKER_POLICY_VERIFY_KEY: publicPem });
    expect(keys.signingKey?.type).toBe('private');
    expect(keys.verifyKey?.type).toBe('public');
    const sig = signPolicyDoc(doc, loadSigningKey(privatePem));
    expect(isValidSignature(doc, sig, loadVerifyKey(pubPath))).toBe(true);
    expect(policyKeysFromEnv({})).toEqual({});
  });

  it('refuses non-Ed25519 and unreadable keys naming the setting, never echoing key material', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(codeOf(() => loadSigningKey(rsaPem))).toBe('MASKER_CONFIG');
    expect(messageOf(() => loadSigningKey(rsaPem))).toContain('MASKER_POLICY_SIGNING_KEY');
    const garbled = privatePem.replace(/\n[A-Za-z0-9+/=]+\n/, '\nMC4CAQAwBQYDK2VwBCIEI\n');
    const message = messageOf(() => loadSigningKey(garbled));
    expect(message).toContain('MASKER_POLICY_SIGNING_KEY');
    expect(message).not.toContain(privatePem.split('\n')[1] ?? '-');
    expect(codeOf(() => loadVerifyKey(join(dir, 'missing.pem')))).toBe('MASKER_CONFIG');
  });
});
