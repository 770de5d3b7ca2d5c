import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { canonicalJson, sha256Of } from '../../../src/policy/file-policy-store.js';
import { canonicalPrettyJson } from '../../../src/policy/policy-diff.js';

describe('canonical JSON', () => {
  it('sorts keys at every level, keeps array order, drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: undefined, b: 'x' } })).toBe('{"a":{"b":"x","d":[3,1]},"b":1}');
  });

  it('gives YAML and JSON forms of one document the same sha256', () => {
    const yaml = 'name: x\nkind: MaskingPolicy\nrules:\n  - action: redact\n    name: emails\n';
    const json = '{"kind":"MaskingPolicy","name":"x","rules":[{"name":"emails","action":"redact"}]}';
    expect(sha256Of(parseYaml(yaml))).toBe(sha256Of(JSON.parse(json)));
    expect(sha256Of({ a: [1, 2] })).not.toBe(sha256Of({ a: [2, 1] }));
  });

  it('pretty form is sorted and indented, and parses back to the same document', () => {
    const doc = { z: 1, a: { y: true, b: null } };
    const pretty = canonicalPrettyJson(doc);
    expect(pretty).toBe('{\n  "a": {\n    "b": null,\n    "y": true\n  },\n  "z": 1\n}');
    expect(JSON.parse(pretty)).toEqual(doc);
  });
});
