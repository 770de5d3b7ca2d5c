import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilePolicyStore } from '../../../src/policy/file-policy-store.js';
import { FilePolicySource } from '../../../src/policy/file-policy-source.js';
import { readPolicyFolder } from '../../../src/policy/policy-folder.js';

const doc = (name: string): string => `apiVersion: masker/v1\nkind: MaskingPolicy\nname: ${name}\nrules: []\n`;

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'masker-policy-folder-'));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const byName = (d: unknown, path: string): { name: string; path: string } => ({ name: (d as { name: string }).name, path });

describe('readPolicyFolder', () => {
  it('reads *.yaml, *.yml and *.json in name order and ignores other files', () => {
    const dir = folder({ 'b.yml': doc('b'), 'a.yaml': doc('a'), 'c.json': JSON.stringify({ name: 'c' }), 'notes.txt': 'x' });
    const read = readPolicyFolder(dir, byName);
    expect([...read.keys()]).toEqual(['a', 'b', 'c']);
    expect(read.get('c')?.path).toBe(join(dir, 'c.json'));
  });

  it('refuses a name defined twice, a file that does not parse, and an unreadable folder', () => {
    expect(() => readPolicyFolder(folder({ 'a.yaml': doc('x'), 'b.yaml': doc('x') }), byName))
      .toThrow(expect.objectContaining({ code: 'MASKER_POLICY_INVALID', message: expect.stringContaining('b.yaml: policy name "x" is defined twice') as unknown }));
    expect(() => readPolicyFolder(folder({ 'a.yaml': 'a: [' }), byName)).toThrow(expect.objectContaining({ code: 'MASKER_POLICY_INVALID' }));
    expect(() => readPolicyFolder('/nonexistent-masker-folder', byName)).toThrow(expect.objectContaining({ code: 'MASKER_CONFIG' }));
  });

  it('is what both FilePolicyStore (validated policies) and FilePolicySource (documents) read', async () => {
    const dir = folder({ 'shop.yaml': doc('shop'), 'orders.json': JSON.stringify({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'orders', rules: [] }) });
    const store = new FilePolicyStore(dir);
    const source = new FilePolicySource(dir);
    expect(store.names().sort()).toEqual(await source.names());
    expect(store.policyFor({ policy: 'shop' })?.sha256).toBe((await source.get('shop'))?.sha256);
    await expect(new FilePolicySource(folder({ 'a.yaml': 'rules: []' })).names()).rejects.toMatchObject({ message: expect.stringContaining('name: expected a string') as unknown });
  });
});
