/**
 * Field paths and path globs.
 *
 * A field path names a leaf of a schema: record field names joined by `.`, array items as `[]`, map values
 * as `{}` (`contacts[].email`, `attributes{}`, `matrix[][]`). The root value of a non-record schema (an
 * Avro key such as `"long"`) has the empty path, shown as `$`.
 *
 * A glob is a path whose segments may be `*` (exactly one field name), `**` (any number of segments,
 * including `[]` and `{}`), or a field name with `*` wildcards inside (`*_email`). A glob matches a leaf
 * when it matches the leaf's path or the path of one of its ancestors (`address` covers `address.street`).
 * Globs are compiled at plan time only, never per record.
 */

export const ARRAY_TOKEN = '[]';
export const MAP_TOKEN = '{}';
export const ROOT_PATH_DISPLAY = '$';

const NAME_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GLOB_SEGMENT = /^(\*\*|[A-Za-z0-9_*]+)((?:\[\]|\{\})*)$/;
const EXACT_SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\]|\{\})*)$/;

/** Splits a path (or glob) into tokens: names / name patterns, `**`, `[]`, `{}`. */
function splitSegments(path: string, segment: RegExp): string[] | undefined {
  if (path === '' || path === ROOT_PATH_DISPLAY) return [];
  const tokens: string[] = [];
  for (const part of path.split('.')) {
    const m = segment.exec(part);
    if (m === null) return undefined;
    tokens.push(m[1] ?? '');
    const suffix = m[2] ?? '';
    for (let i = 0; i < suffix.length; i += 2) tokens.push(suffix.slice(i, i + 2));
  }
  return tokens;
}

/** Why a glob is not valid, or undefined when it is. */
export function globSyntaxError(glob: string): string | undefined {
  if (glob.trim() === '') return 'a path glob must not be empty';
  if (splitSegments(glob, GLOB_SEGMENT) === undefined) {
    return 'expected segments separated by "." — field names (wildcard "*" allowed), "**", each optionally followed by "[]" (array items) or "{}" (map values)';
  }
  return undefined;
}

/** Why an exact field path (no wildcards) is not valid, or undefined when it is. */
export function exactPathSyntaxError(path: string): string | undefined {
  const tokens = splitSegments(path, EXACT_SEGMENT);
  if (tokens === undefined || tokens.length === 0) {
    return 'expected field names separated by "." (no wildcards), e.g. "id" or "customer.id"';
  }
  return undefined;
}

/** Tokens of an exact path such as `contacts[].email` (no wildcards). */
export function pathTokens(path: string): readonly string[] {
  const tokens = splitSegments(path, EXACT_SEGMENT);
  if (tokens === undefined) throw new Error(`not a field path: ${path}`);
  return tokens;
}

export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

export function displayPath(path: string): string {
  return path === '' ? ROOT_PATH_DISPLAY : path;
}

/** Whether a token is a field name (as opposed to `[]` / `{}`). */
export function isNameToken(token: string): boolean {
  return NAME_SEGMENT.test(token);
}

export interface GlobMatcher {
  readonly glob: string;
  /** True when the glob matches the leaf path or one of its ancestors (a non-empty prefix). */
  matches(leafTokens: readonly string[]): boolean;
}

/** Compiles a glob (already syntax-checked by policy validation). */
export function compileGlob(glob: string): GlobMatcher {
  const tokens = splitSegments(glob, GLOB_SEGMENT);
  if (tokens === undefined) throw new Error(`invalid path glob: ${glob}`);
  const segmentTests = tokens.map((t): ((token: string) => boolean) => {
    if (t === '**') return () => true;
    if (t === ARRAY_TOKEN || t === MAP_TOKEN) return (token) => token === t;
    if (t === '*') return isNameToken;
    if (!t.includes('*')) return (token) => token === t;
    const re = new RegExp(`^${t.split('*').map(escapeRegExp).join('[A-Za-z0-9_]*')}$`);
    return (token) => isNameToken(token) && re.test(token);
  });
  const isDoubleStar = tokens.map((t) => t === '**');

  // ends[i] = set of leaf positions reachable after consuming i glob tokens.
  const matches = (leaf: readonly string[]): boolean => {
    if (tokens.length === 0) return leaf.length === 0;
    let positions = new Set<number>([0]);
    for (let i = 0; i < tokens.length; i++) {
      const next = new Set<number>();
      for (const p of positions) {
        if (isDoubleStar[i] === true) {
          for (let q = p; q <= leaf.length; q++) next.add(q);
        } else if (p < leaf.length && segmentTests[i]?.(leaf[p] ?? '') === true) {
          next.add(p + 1);
        }
      }
      positions = next;
      if (positions.size === 0) return false;
    }
    for (const p of positions) if (p > 0 || leaf.length === 0) return true;
    return false;
  };
  return { glob, matches };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
