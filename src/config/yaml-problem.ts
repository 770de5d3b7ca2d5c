import { YAMLError } from 'yaml';

/**
 * What went wrong reading a YAML/JSON config file (policy, route), for `${file}: ${yamlProblem(err)}`:
 * `not valid YAML/JSON at line 3, column 5: Nested mappings are not allowed in compact mappings` for a
 * syntax error (the `yaml` package's errors carry the position), `cannot be read (ENOENT)` when the file
 * could not be read. The text of the file is not quoted: only the position and the parser's reason.
 */
export function yamlProblem(err: unknown): string {
  if (err instanceof YAMLError) {
    const reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim();
    const at = err.linePos?.[0];
    return `not valid YAML/JSON${at === undefined ? '' : ` at line ${at.line}, column ${at.col}`}${reason === '' ? '' : `: ${reason}`}`;
  }
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `cannot be read (${code})`;
  return 'not valid YAML/JSON';
}
