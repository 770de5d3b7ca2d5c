import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyValidationError } from '../../../src/masking/index.js';
import { policyDoc, thrown } from './support.js';

const email = { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } };

function issuesOf(doc: unknown): { path: string; message: string }[] {
  const err = thrown(() => parsePolicy(doc, 'policies/bad.yaml'));
  expect(err).toBeInstanceOf(PolicyValidationError);
  expect(err.code).toBe('MASKER_POLICY_INVALID');
  return [...(err as PolicyValidationError).issues];
}

describe('parsePolicy', () => {
  it('accepts the design example and fills defaults', () => {
    const p = parsePolicy(policyDoc([email, { name: 'notes', match: { path: '**.notes' }, action: 'scrub', params: { detectors: ['email', 'phone'] } }]), 'x');
    expect(p.sensitiveTags).toEqual(['PII']);
    expect(p.onUnmatchedSensitive).toBe('redact');
    expect(p.rules[1]).toMatchObject({ action: 'scrub', params: { detectors: ['email', 'phone'], replace: 'tag' }, match: { path: ['**.notes'] } });
  });

  it('fills action defaults (mask, hash, date-shift)', () => {
    const p = parsePolicy(policyDoc([
      { name: 'm', match: { name: 'x' }, action: 'mask' },
      { name: 'h', match: { name: 'y' }, action: 'hash' },
      { name: 'd', match: { name: 'z' }, action: 'date-shift' },
    ]), 'x');
    expect(p.rules.map((r) => r.params)).toEqual([
      { keepFirst: 0, keepLast: 0, char: '*' },
      { encoding: 'hex' },
      { maxDays: 30 },
    ]);
  });

  const bad: [string, unknown, string][] = [
    ['unknown top-level key', { ...policyDoc([email]), colour: 'red' }, 'colour'],
    ['wrong apiVersion', { ...policyDoc([email]), apiVersion: 'masker/v2' }, 'apiVersion'],
    ['bad policy name', { ...policyDoc([email]), name: 'Default Policy' }, 'name'],
    ['unknown action', policyDoc([email, { name: 'x', match: { tags: ['A'] }, action: 'encrypt' }]), 'rules[1].action'],
    ['unknown param', policyDoc([{ name: 'm', match: { tags: ['A'] }, action: 'mask', params: { keepFrist: 2 } }]), 'rules[0].params.keepFrist'],
    ['param of the wrong type', policyDoc([{ name: 'm', match: { tags: ['A'] }, action: 'mask', params: { keepFirst: 'two' } }]), 'rules[0].params.keepFirst'],
    ['negative keepLast', policyDoc([{ name: 'm', match: { tags: ['A'] }, action: 'mask', params: { keepLast: -1 } }]), 'rules[0].params.keepLast'],
    ['mask char of two characters', policyDoc([{ name: 'm', match: { tags: ['A'] }, action: 'mask', params: { char: '**' } }]), 'rules[0].params.char'],
    ['pseudonymize without format', policyDoc([{ name: 'p', match: { tags: ['A'] }, action: 'pseudonymize' }]), 'rules[0].params'],
    ['unknown pseudonym format', policyDoc([{ name: 'p', match: { tags: ['A'] }, action: 'pseudonymize', params: { format: 'passport' } }]), 'rules[0].params.format'],
    ['keep without reason', policyDoc([{ name: 'k', match: { tags: ['A'] }, action: 'keep', params: {} }]), 'rules[0].params.reason'],
    ['keep with a blank reason', policyDoc([{ name: 'k', match: { tags: ['A'] }, action: 'keep', params: { reason: '  ' } }]), 'rules[0].params.reason'],
    ['empty match', policyDoc([{ name: 'e', match: {}, action: 'redact' }]), 'rules[0].match'],
    ['unknown match key', policyDoc([{ name: 'e', match: { tag: ['PII'] }, action: 'redact' }]), 'rules[0].match.tag'],
    ['invalid name regex', policyDoc([{ name: 'e', match: { name: '(email' }, action: 'redact' }]), 'rules[0].match.name'],
    ['invalid path glob', policyDoc([{ name: 'e', match: { path: 'after..email' }, action: 'redact' }]), 'rules[0].match.path'],
    ['invalid glob in a list', policyDoc([{ name: 'e', match: { path: ['a.b', 'c/d'] }, action: 'redact' }]), 'rules[0].match.path[1]'],
    ['unknown type name', policyDoc([{ name: 'e', match: { type: 'varchar' }, action: 'redact' }]), 'rules[0].match.type'],
    ['generalize with both params', policyDoc([{ name: 'g', match: { tags: ['A'] }, action: 'generalize', params: { bucket: 10, keepPrefix: 3 } }]), 'rules[0].params'],
    ['generalize with no param', policyDoc([{ name: 'g', match: { tags: ['A'] }, action: 'generalize', params: {} }]), 'rules[0].params'],
    ['unknown detector', policyDoc([{ name: 's', match: { tags: ['A'] }, action: 'scrub', params: { detectors: ['email', 'passport'] } }]), 'rules[0].params.detectors[1]'],
    ['repeated detector', policyDoc([{ name: 's', match: { tags: ['A'] }, action: 'scrub', params: { detectors: ['email', 'email'] } }]), 'rules[0].params.detectors'],
    ['duplicate rule names', policyDoc([email, { ...email }]), 'rules[1].name'],
    ['date-shift maxDays of 0', policyDoc([{ name: 'd', match: { tags: ['A'] }, action: 'date-shift', params: { maxDays: 0 } }]), 'rules[0].params.maxDays'],
    ['date-shift entityPath with a wildcard', policyDoc([{ name: 'd', match: { tags: ['A'] }, action: 'date-shift', params: { entityPath: '*.id' } }]), 'rules[0].params.entityPath'],
    ['bad hash domain', policyDoc([{ name: 'h', match: { tags: ['A'] }, action: 'hash', params: { domain: 'Not OK' } }]), 'rules[0].params.domain'],
    ['nullify with params', policyDoc([{ name: 'n', match: { tags: ['A'] }, action: 'nullify', params: { value: 1 } }]), 'rules[0].params.value'],
    ['bad onUnmatchedSensitive', { ...policyDoc([email]), onUnmatchedSensitive: 'pass' }, 'onUnmatchedSensitive'],
    ['rules missing', { apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'x' }, 'rules'],
  ];

  it.each(bad)('rejects %s at the right path', (_what, doc, path) => {
    const issues = issuesOf(doc);
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it('names the origin and the path in the message, and reports every issue', () => {
    const err = thrown(() => parsePolicy(policyDoc([
      { name: 'm', match: { tags: ['A'] }, action: 'mask', params: { keepFirst: 'x' } },
      { name: 'k', match: { tags: ['A'] }, action: 'keep', params: {} },
    ]), 'policies/bad.yaml')) as PolicyValidationError;
    expect(err.issues).toHaveLength(2);
    expect(err.message).toContain('policies/bad.yaml: rules[0].params.keepFirst');
    expect(err.message).toContain('policies/bad.yaml: rules[1].params.reason');
  });

  it('rejects a document that is not an object', () => {
    expect(issuesOf('just a string')[0]?.path).toBe('(root)');
  });
});
