import { describe, expect, it } from 'vitest';
import { diffLines, diffPolicyDocs } from '../../../src/policy/policy-diff.js';

describe('policy diff', () => {
  it('reports no change for documents that differ only in key order', () => {
    const d = diffPolicyDocs({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, { from: 'v1', to: 'v2' });
    expect(d.changed).toBe(false);
    expect(d.text).toBe('');
  });

  it('shows removed and added lines in a unified hunk', () => {
    const d = diffPolicyDocs({ name: 'x', action: 'redact' }, { name: 'x', action: 'hash' }, { from: 'x@v1', to: 'x@v2' });
    expect(d.text).toBe([
      '--- x@v1', '+++ x@v2', '@@ -1,4 +1,4 @@', ' {', '-  "action": "redact",', '+  "action": "hash",', '   "name": "x"', ' }', '',
    ].join('\n'));
  });

  it('keeps common lines and finds the minimal edit', () => {
    const ops = diffLines(['a', 'b', 'c', 'd'], ['a', 'c', 'd', 'e']).map((l) => `${l.op}${l.text}`);
    expect(ops).toEqual([' a', '-b', ' c', ' d', '+e']);
  });

  it('splits distant changes into separate hunks with correct line numbers', () => {
    const a = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const b = [...a];
    b[2] = 'changed 2';
    b[25] = 'changed 25';
    const d = diffPolicyDocs(a, b, { from: 'a', to: 'b' }, 1);
    const hunks = d.text.split('\n').filter((l) => l.startsWith('@@'));
    expect(hunks).toEqual(['@@ -3,3 +3,3 @@', '@@ -26,3 +26,3 @@']);
  });
});
