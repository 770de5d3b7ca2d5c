import { readFileSync } from 'node:fs';

/**
 * The `version` of masker's package.json (`masker --version`). Read at call time from the package root:
 * `../../package.json` from both `src/cli/` (tests, vite-node) and `dist/cli/` (the bin).
 */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
