import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyedHasher } from '../../../src/masking/crypto/keyed-hash.js';

/** The documented construction, with node:crypto: HMAC(key, pad64(domain ‖ 0x00) ‖ value). */
function reference(secret: Uint8Array, domain: string, value: Uint8Array): Buffer {
  const d = Buffer.from(domain, 'utf8');
  const block = Buffer.alloc(Math.ceil((d.length + 1) / 64) * 64);
  d.copy(block);
  return createHmac('sha256', secret).update(block).update(value).digest();
}

describe('KeyedHasher', () => {
  const keys = [new TextEncoder().encode('short-key-16byte'), new Uint8Array(64).fill(7), new Uint8Array(100).map((_, i) => i)];
  const domains = ['person', '', 'x'.repeat(63), 'y'.repeat(64), 'ünï'];
  const lengths = [0, 1, 54, 55, 56, 63, 64, 65, 119, 120, 1000];

  it('equals HMAC-SHA256 over the padded domain and the value, for every key/domain/length', () => {
    for (const key of keys) {
      for (const domain of domains) {
        const hasher = new KeyedHasher(key, domain);
        for (const n of lengths) {
          const value = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
          expect(Buffer.from(hasher.digestBytes(value)).equals(reference(key, domain, value))).toBe(true);
        }
      }
    }
  });

  it('hashes strings as UTF-8', () => {
    const key = keys[0]!;
    const hasher = new KeyedHasher(key, 'd');
    for (const text of ['', 'jane@acme.com', 'Zoë 🚀', '\uD800 lone surrogate']) {
      expect(Buffer.from(hasher.digestString(text)).equals(reference(key, 'd', Buffer.from(text, 'utf8')))).toBe(true);
    }
  });

  it('separates domains', () => {
    const key = keys[0]!;
    expect(Buffer.from(new KeyedHasher(key, 'a').digestString('v'))).not.toEqual(Buffer.from(new KeyedHasher(key, 'b').digestString('v')));
  });
});
