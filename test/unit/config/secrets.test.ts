import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeyRing } from '../../../src/config/secrets.js';

const LONG = 'a-secret-of-enough-length';

describe('loadKeyRing', () => {
  it('takes a plain MASKER_SECRET as key "default"', () => {
    const ring = loadKeyRing({ MASKER_SECRET: LONG });
    expect(ring.active.id).toBe('default');
    expect(Buffer.from(ring.active.secret).toString()).toBe(LONG);
  });

  it('takes a rotation document and picks the active key', () => {
    const ring = loadKeyRing({ MASKER_SECRET: JSON.stringify({ active: 'k2', keys: { k1: LONG, k2: `base64:${Buffer.alloc(32, 7).toString('base64')}` } }) });
    expect(ring.active.id).toBe('k2');
    expect(ring.active.secret).toEqual(new Uint8Array(32).fill(7));
    expect([...ring.keys.keys()]).toEqual(['k1', 'k2']);
  });

  it('reads MASKER_SECRET_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'masker-secret-')), 'key');
    writeFileSync(file, `${LONG}\n`);
    expect(loadKeyRing({ MASKER_SECRET_FILE: file }).active.id).toBe('default');
  });

  it.each([
    [{}, /no masking key/],
    [{ MASKER_SECRET: 'short' }, /at least 16 bytes, got 5/],
    [{ MASKER_SECRET: LONG, MASKER_SECRET_FILE: '/x' }, /only one of/],
    [{ MASKER_SECRET: '{"active":"k9","keys":{"k1":"a-secret-of-enough-length"}}' }, /"k9" is not one of the ids/],
    [{ MASKER_SECRET: '{"active":"k1","keys":{}, "extra": 1}' }, /unknown key\(s\) extra/],
    [{ MASKER_SECRET: '{not json' }, /not valid JSON/],
    [{ MASKER_SECRET_FILE: '/nonexistent/secret' }, /cannot read/],
  ])('refuses %j, naming the setting, never echoing the secret', (env, message) => {
    expect(() => loadKeyRing(env)).toThrow(message);
    try {
      loadKeyRing(env);
    } catch (err) {
      expect((err as Error).message).not.toContain(LONG);
      expect((err as { code: string }).code).toBe('MASKER_SECRET');
    }
  });
});
