import { describe, expect, it } from 'vitest';
import { compileFieldPathGlob } from '../../../src/registry/field-path-glob.js';

function matches(name: string, glob: string): boolean {
  const compiled = compileFieldPathGlob(glob);
  if (compiled === undefined) throw new Error(`glob ${glob} did not compile`);
  return compiled(name);
}

describe('field path globs (Confluent WildcardMatcher semantics)', () => {
  // The examples Confluent documents for its matcher.
  it.each([
    ['eve', 'eve*', true],
    ['alice.bob.eve', 'a*.bob.eve', true],
    ['alice.bob.eve', 'a*.bob.e*', true],
    ['alice.bob.eve', 'a*', false],
    ['alice.bob.eve', 'a**', true],
    ['alice.bob.eve', 'alice.bob*', false],
    ['alice.bob.eve', 'alice.bob**', true],
  ])('%s against %s → %s', (name, glob, expected) => {
    expect(matches(name, glob)).toBe(expected);
  });

  it('matches record-qualified field names exactly, dots literal, case-sensitive', () => {
    expect(matches('com.acme.Customer.email', 'com.acme.Customer.email')).toBe(true);
    expect(matches('com.acme.Customer.email', 'Customer.email')).toBe(false);
    expect(matches('comXacme.Customer.email', 'com.acme.Customer.email')).toBe(false);
    expect(matches('com.acme.Customer.Email', 'com.acme.Customer.email')).toBe(false);
    expect(matches('com.acme.Customer.emails', 'com.acme.Customer.email')).toBe(false);
  });

  it('** crosses name boundaries, * and ? do not; **.* is **', () => {
    expect(matches('com.acme.Customer.email', '**.email')).toBe(true);
    expect(matches('Customer.email', '**.email')).toBe(true);
    expect(matches('com.acme.Customer.work_email', '**.email')).toBe(false);
    expect(matches('com.acme.Customer.work_email', '**.*email')).toBe(true);
    expect(matches('com.acme.Customer.email', '*.email')).toBe(false);
    expect(matches('Customer.email', '*.email')).toBe(true);
    expect(matches('com.acme.Customer.ssn', 'com.acme.*.ssn')).toBe(true);
    expect(matches('com.acme.v1.Customer.ssn', 'com.acme.*.ssn')).toBe(false);
    expect(matches('Customer.ssn', 'Customer.ss?')).toBe(true);
    expect(matches('Customer.ss.n', 'Customer.ss??n')).toBe(false);
    expect(matches('a.b.c', '**.*')).toBe(true);
  });

  it('takes regex metacharacters literally, and \\x as x', () => {
    expect(matches('a.b', 'a+.b')).toBe(false);
    expect(matches('a+.b', 'a+.b')).toBe(true);
    expect(matches('Customer.email', 'Customer\\.email')).toBe(true);
    expect(matches('Customer.e*', 'Customer.e\\*')).toBe(true);
    expect(matches('Customer.email', 'Customer.e\\*')).toBe(false);
  });

  it('passes character classes through, and reports a glob that does not compile', () => {
    expect(matches('Customer.email', 'Customer.[ef]mail')).toBe(true);
    expect(matches('Customer.gmail', 'Customer.[ef]mail')).toBe(false);
    expect(compileFieldPathGlob('Customer.[email')).toBeUndefined();
  });
});
