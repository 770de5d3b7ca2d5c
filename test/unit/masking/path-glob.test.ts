import { describe, expect, it } from 'vitest';
import { compileGlob, globSyntaxError, pathTokens } from '../../../src/masking/path-glob.js';

function matches(glob: string, path: string): boolean {
  return compileGlob(glob).matches(pathTokens(path));
}

describe('path globs', () => {
  it.each([
    ['email', 'email', true],
    ['email', 'contact.email', false],
    ['**.email', 'email', true],
    ['**.email', 'contact.email', true],
    ['**.email', 'contacts[].email', true],
    ['**.email', 'contact.email_verified', false],
    ['contact.*', 'contact.email', true],
    ['*.email', 'contacts[].email', false],
    ['contacts[].*', 'contacts[].email', true],
    ['*_email', 'work_email', true],
    ['*_email', 'email', false],
    ['address', 'address.street', true],
    ['phones', 'phones[]', true],
    ['phones[]', 'phones[]', true],
    ['attributes{}', 'attributes{}', true],
    ['attributes[]', 'attributes{}', false],
    ['**', 'a.b[].c', true],
    ['a.**.z', 'a.z', true],
    ['a.**.z', 'a.b.c.z', true],
  ])('%s vs %s → %s', (glob, path, expected) => {
    expect(matches(glob, path)).toBe(expected);
  });

  it.each(['', 'a..b', 'a/b', 'a.[]', 'a[0]', 'a.b-c'])('rejects the glob %j', (glob) => {
    expect(globSyntaxError(glob)).toBeDefined();
  });
});
