import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MaskerError } from '../errors.js';

/** `deploy/local/stack.sh` of this checkout: `../../` from both `src/cli/` and `dist/cli/`. */
export const STACK_SCRIPT = fileURLToPath(new URL('../../deploy/local/stack.sh', import.meta.url));

export interface LocalStackOptions {
  /** Variables the caller needs; when all are set (not empty) nothing is started. */
  readonly required: readonly string[];
  /** Further variables taken from the script's output when it prints them (e.g. the second cluster's). */
  readonly optional?: readonly string[];
  /** Extra environment for the script (MASKER_STACK_TARGET=1, MASKER_STACK_TARGET_ENV=test, ...). */
  readonly scriptEnv?: Readonly<Record<string, string>>;
  /** Deadline for `stack.sh up`. Default 15 min: a first run fetches Kafka and builds the registry. */
  readonly timeoutMs?: number;
  /** The script to run. Default {@link STACK_SCRIPT} (tests pass a stand-in). */
  readonly script?: string;
}

/**
 * Where local tools (the integration tests' setup, `masker demo`) find Kafka, the registry and Redis:
 * variables already set in `env` are used as they are; otherwise `deploy/local/stack.sh up` starts what does
 * not answer yet (reusing what does; its progress goes to stderr) and the variables it prints are returned
 * — only those not already set, so the caller's environment wins. Returns {} when nothing was needed.
 */
export function localStackEnv(env: NodeJS.ProcessEnv, options: LocalStackOptions): Record<string, string> {
  if (options.required.every((k) => (env[k] ?? '') !== '')) return {};
  const script = options.script ?? STACK_SCRIPT;
  if (!existsSync(script)) {
    throw new MaskerError('MASKER_CONFIG', `${options.required.filter((k) => (env[k] ?? '') === '').join(', ')} not set, and there is no local stack script (${script}) to start one: set them`);
  }
  let out: string;
  try {
    out = execFileSync('bash', [script, 'up'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: options.timeoutMs ?? 900_000,
      env: { ...env, ...options.scriptEnv },
    });
  } catch (cause) {
    throw new MaskerError('MASKER_CONFIG', `the local stack could not be started (bash ${script} up failed; its messages are above); or set ${options.required.join(', ')}`, { cause });
  }
  const accepted = new Set([...options.required, ...(options.optional ?? [])]);
  const found: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined && accepted.has(m[1]) && (env[m[1]] ?? '') === '') found[m[1]] = m[2];
  }
  return found;
}
