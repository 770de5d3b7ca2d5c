import { afterEach, beforeEach, vi } from 'vitest';

/**
 * For tests that run `main([...])` in process: before each test, stderr is captured and `env` stubbed
 * (a silent logger and a valid secret unless `env` says otherwise); both are restored after. Returns what
 * the current test wrote to stderr.
 */
export function captureCliStderr(env: Readonly<Record<string, string>>): () => string {
  let err = '';
  beforeEach(() => {
    err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += chunk.toString();
      return true;
    });
    const all: Record<string, string> = { LOG_LEVEL: 'silent', MASKER_SECRET: 'cli-test-secret-0123456789', MASKER_SECRET_FILE: '', REDIS_URL: '', ...env };
    for (const [name, value] of Object.entries(all)) vi.stubEnv(name, value);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  return () => err;
}
