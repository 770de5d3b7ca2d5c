import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { hashKeyCommand } from '../../../src/cli/serve-command.js';
import { allowsPolicy, loadApiKeys, parseApiKeys, sha256Hex } from '../../../src/http/api-keys.js';

const { timingSafeEqualCalls } = vi.hoisted(() => ({ timingSafeEqualCalls: { count: 0 } }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqualCalls.count++;
      return actual.timingSafeEqual(a, b);
    },
  };
});

const keys = ['first-key-0123456789abcdef', 'second-key-0123456789abcdef', 'third-key-0123456789abcdef'];

function store() {
  return parseApiKeys([
    { id: 'first', sha256: sha256Hex(keys[0]!) },
    { id: 'second', sha256: sha256Hex(keys[1]!).toUpperCase(), policies: ['strict'] },
    { id: 'third', sha256: sha256Hex(keys[2]!), policies: ['default', 'strict'] },
  ], 'keys.yaml');
}

describe('API keys', () => {
  it('hashes keys with SHA-256 (hex of the UTF-8 bytes)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('clé')).toBe(createHash('sha256').update(Buffer.from('clé', 'utf8')).digest('hex'));
  });

  it('authenticates a Bearer key against the stored digests (any case of hex and of "Bearer")', () => {
    const s = store();
    expect(s.authenticate(`Bearer ${keys[0]}`)).toMatchObject({ ok: true, key: { id: 'first' } });
    expect(s.authenticate(`bearer ${keys[1]}`)).toMatchObject({ ok: true, key: { id: 'second' } });
    expect(s.authenticate(`Bearer ${keys[2]} `)).toMatchObject({ ok: true, key: { id: 'third' } });
  });

  it('tells missing, malformed and unknown credentials apart (for the audit only)', () => {
    const s = store();
    expect(s.authenticate(undefined)).toEqual({ ok: false, reason: 'missing-credentials' });
    expect(s.authenticate('')).toEqual({ ok: false, reason: 'missing-credentials' });
    expect(s.authenticate(`Basic ${keys[0]}`)).toEqual({ ok: false, reason: 'malformed-credentials' });
    expect(s.authenticate(`Bearer ${keys[0]} extra`)).toEqual({ ok: false, reason: 'malformed-credentials' });
    expect(s.authenticate(`Bearer ${'x'.repeat(600)}`)).toEqual({ ok: false, reason: 'malformed-credentials' });
    expect(s.authenticate(`Bearer ${keys[0]}x`)).toEqual({ ok: false, reason: 'unknown-key' });
    expect(s.authenticate(`Bearer ${sha256Hex(keys[0]!)}`)).toEqual({ ok: false, reason: 'unknown-key' }); // the digest is not the key
  });

  it('compares with timingSafeEqual against every entry, also when the first one matches', () => {
    const s = store();
    for (const presented of [keys[0]!, keys[2]!, 'not-a-key-at-all-0123456789']) {
      timingSafeEqualCalls.count = 0;
      s.authenticate(`Bearer ${presented}`);
      expect(timingSafeEqualCalls.count).toBe(3);
    }
  });

  it('limits keys to their listed policies; no list means every policy', () => {
    const s = store();
    const auth = (k: string) => {
      const a = s.authenticate(`Bearer ${k}`);
      if (!a.ok) throw new Error('not authenticated');
      return a.key;
    };
    expect(allowsPolicy(auth(keys[0]!), 'anything')).toBe(true);
    expect(allowsPolicy(auth(keys[1]!), 'strict')).toBe(true);
    expect(allowsPolicy(auth(keys[1]!), 'default')).toBe(false);
    expect(allowsPolicy(auth(keys[2]!), 'default')).toBe(true);
    expect(s.namedPolicies()).toEqual(['default', 'strict']);
  });

  it('refuses invalid key files naming the path at fault', () => {
    const bad: [unknown, string][] = [
      [[], 'expected at least one key'],
      [{ id: 'a', sha256: sha256Hex('x') }, '(root): Expected array'],
      [[{ id: 'a', sha256: 'abc' }], '[0].sha256: expected 64 hex digits'],
      [[{ id: 'a b', sha256: sha256Hex('x') }], '[0].id'],
      [[{ id: 'a', sha256: sha256Hex('x'), key: 'plaintext' }], "Unrecognized key(s) in object: 'key'"],
      [[{ id: 'a', sha256: sha256Hex('x'), policies: ['Not_A_Name'] }], '[0].policies[0]'],
      [[{ id: 'a', sha256: sha256Hex('x') }, { id: 'a', sha256: sha256Hex('y') }], '[1].id: "a" is used twice'],
      [[{ id: 'a', sha256: sha256Hex('x') }, { id: 'b', sha256: sha256Hex('x').toUpperCase() }], '[1].sha256: the same key is listed twice'],
    ];
    for (const [doc, message] of bad) {
      expect(() => parseApiKeys(doc, 'keys.yaml')).toThrow(expect.objectContaining({ code: 'MASKER_CONFIG', message: expect.stringContaining(message) as unknown }));
    }
  });

  it('loads YAML or JSON files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'masker-keys-'));
    writeFileSync(join(dir, 'keys.yaml'), `- id: ci\n  sha256: ${sha256Hex(keys[0]!)}\n  policies: [default]\n`);
    writeFileSync(join(dir, 'keys.json'), JSON.stringify([{ id: 'ci', sha256: sha256Hex(keys[0]!) }]));
    expect(loadApiKeys(join(dir, 'keys.yaml')).authenticate(`Bearer ${keys[0]}`)).toMatchObject({ ok: true, key: { id: 'ci' } });
    expect(loadApiKeys(join(dir, 'keys.json')).size).toBe(1);
    expect(() => loadApiKeys(join(dir, 'missing.yaml'))).toThrow(expect.objectContaining({ code: 'MASKER_CONFIG' }));
  });
});

describe('masker serve hash-key', () => {
  async function run(input: string): Promise<string> {
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => { out += c.toString(); });
    await hashKeyCommand({ stdin: Readable.from([Buffer.from(input)]), stdout });
    return out;
  }

  it('prints the SHA-256 of the key on stdin, ignoring one trailing newline', async () => {
    expect(await run(`${keys[0]}\n`)).toBe(`${sha256Hex(keys[0]!)}\n`);
    expect(await run(`${keys[0]}\r\n`)).toBe(`${sha256Hex(keys[0]!)}\n`);
    expect(await run(keys[0]!)).toBe(`${sha256Hex(keys[0]!)}\n`);
  });

  it('refuses short keys and keys with whitespace', async () => {
    await expect(run('short\n')).rejects.toMatchObject({ code: 'MASKER_INPUT' });
    await expect(run(`${keys[0]} ${keys[1]}\n`)).rejects.toMatchObject({ code: 'MASKER_INPUT' });
    await expect(run(`${keys[0]}\n\n`)).rejects.toMatchObject({ code: 'MASKER_INPUT' });
  });
});
