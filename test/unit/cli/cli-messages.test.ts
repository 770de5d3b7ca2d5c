import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

/** What `masker` prints and returns for usage and configuration mistakes an operator makes. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCHEMA = join(ROOT, 'examples/customers-cdc.avsc');
const POLICY = join(ROOT, 'policies/default.yaml');
const RECORDS = join(ROOT, 'examples/customers.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'masker-cli-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += chunk.toString();
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('masker --version', () => {
  it('prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await main(['--version'])).toBe(0);
    expect(out).toBe(`${version}\n`);
  });
});

describe('a short MASKER_SECRET', () => {
  it('is refused with exit 2, naming the setting once', async () => {
    vi.stubEnv('MASKER_SECRET', 'short');
    vi.stubEnv('MASKER_SECRET_FILE', '');
    expect(await main(['mask', '--schema', SCHEMA, '--policy', POLICY, '--in', RECORDS])).toBe(2);
    expect(err).toContain('masker: MASKER_SECRET: the secret in MASKER_SECRET must be at least 16 bytes, got 5\n');
    expect(err).not.toContain('MASKER_SECRET: MASKER_SECRET');
  });
});

describe('masker policy validate', () => {
  const policy = (action: string): string => [
    'apiVersion: masker/v1', 'kind: MaskingPolicy', `name: typo-${action.length}`, 'rules:',
    '  - { name: emails, match: { tags: [EMAIL] }, action: pseudonymize, params: { format: email } }',
    `  - { name: notes, match: { path: "**.notes" }, action: ${action} }`,
  ].join('\n');

  it('echoes an unknown action and suggests the closest one', async () => {
    const path = file('typo.yaml', policy('scrubb'));
    expect(await main(['policy', 'validate', path])).toBe(2);
    expect(out).toContain(`${path}: error: rules[1].action: unknown action "scrubb" (did you mean "scrub"?): expected one of redact,`);
  });

  it('suggests nothing when no action is close', async () => {
    const path = file('far.yaml', policy('encrypt'));
    expect(await main(['policy', 'validate', path])).toBe(2);
    expect(out).toContain('rules[1].action: unknown action "encrypt": expected one of');
    expect(out).not.toContain('did you mean');
  });

  it('gives the line and column of bad YAML', async () => {
    const path = file('bad.yaml', 'apiVersion: masker/v1\nkind: MaskingPolicy\nrules:\n  - name: a\n   action: redact\n');
    expect(await main(['policy', 'validate', path])).toBe(2);
    expect(err).toMatch(new RegExp(`masker: MASKER_INPUT: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML/JSON at line 5, column 1: \\S`));
  });

  it('--explain lists every field decision it counted: path, action, rule', async () => {
    expect(await main(['policy', 'validate', POLICY, '--schema', SCHEMA, '--explain'])).toBe(0);
    const counted = Number(/, (\d+) field decision\(s\)\n/.exec(out)?.[1]);
    expect(counted).toBeGreaterThan(10);
    const table = out.slice(out.indexOf(`field decisions (${counted}):\n`));
    const rows = table.split('\n').slice(2).filter((l) => l.startsWith('  '));
    expect(rows).toHaveLength(counted);
    expect(table).toMatch(/\n {2}PATH +ACTION +RULE\n/);
    expect(table).toMatch(/\n {2}after\.email +pseudonymize +emails\n/);
    expect(table).toMatch(/\n {2}after\.bank_account +mask +bank-account\n/);
  });

  it('--explain without --schema is a usage error', async () => {
    expect(await main(['policy', 'validate', POLICY, '--explain'])).toBe(2);
    expect(err).toContain('--explain lists the field decisions of a schema: pass --schema');
  });
});

describe('a route file with bad YAML', () => {
  it('is refused with its line and column (exit 2)', async () => {
    const routes = mkdtempSync(join(dir, 'routes-'));
    writeFileSync(join(routes, 'broken.yaml'), 'apiVersion: masker/v1\nkind: Route\nname: broken\nsource: { topic: a\n');
    vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:1');
    expect(await main(['replay', '--route', 'broken', '--from', '0', '--to', '1', '--routes', routes])).toBe(2);
    expect(err).toMatch(/masker: MASKER_CONFIG: .*broken\.yaml: not valid YAML\/JSON at line \d+, column \d+: \S/);
  });
});
