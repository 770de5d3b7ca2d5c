/**
 * The path globs of Confluent data-contract `metadata.tags` keys, matched the way Confluent's serdes match
 * them (their `WildcardMatcher`): against a field's fully-qualified name, dot as the name boundary, the
 * whole name must match.
 *
 * - `?`  one character other than `.`
 * - `*`  any run of characters other than `.` (possibly empty)
 * - `**` any run of characters, dots included; `**.*` means the same as `**`
 * - `\x` the character `x` taken literally
 * - `[…]` a character class, passed through as Confluent does
 * - anything else matches itself (case-sensitive)
 *
 * One difference, deliberate: a glob that does not compile (an unclosed `[`, say) is reported (the caller
 * fails closed) where Confluent silently matches nothing. Avro names never contain `\`, so Confluent's own
 * reading of `\` (a literal backslash) would make such a key match no field at all; ours takes the next
 * character literally, which is what its documentation says the escape is for.
 */
export type FieldPathGlob = (fullName: string) => boolean;

/** Compiles a glob; undefined when it is not a valid pattern. */
export function compileFieldPathGlob(glob: string): FieldPathGlob | undefined {
  const source = glob.replaceAll('**.*', '**');
  let re = '';
  for (let i = 0; i < source.length; i++) {
    const c = source.charAt(i);
    if (c === '*') {
      if (source.charAt(i + 1) === '*') {
        re += '.*';
        i++;
      } else {
        re += '[^.]*';
      }
    } else if (c === '?') {
      re += '[^.]';
    } else if (c === '\\') {
      const next = source.charAt(i + 1);
      re += escapeRegExp(next === '' ? '\\' : next);
      i++;
    } else if ('.+{}()|^$'.includes(c)) {
      re += `\\${c}`;
    } else {
      re += c;
    }
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${re})$`);
  } catch {
    return undefined;
  }
  return (fullName) => pattern.test(fullName);
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}
