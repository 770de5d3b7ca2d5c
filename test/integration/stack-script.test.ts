import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { endpoints } from './support/services.js';

/** `stack.sh up` in a fresh clone checks what already answers before fetching or building anything. */

const SCRIPT = resolve(import.meta.dirname, '../../deploy/local/stack.sh');
const dir = mkdtempSync(join(tmpdir(), 'masker-stack-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH with only what the checks need: no mvn, go, java or apt-get, so any install attempt fails. */
function minimalPath(): string {
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  for (const tool of ['node', 'dirname', 'mkdir', 'curl']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found !== '') symlinkSync(found, join(bin, tool));
  }
  return bin;
}

describe('deploy/local/stack.sh up', () => {
  const { brokers, registryUrl, redisUrl } = endpoints();
  const local = [brokers[0] ?? '', registryUrl, redisUrl].every((e) => /(^|\/\/)127\.0\.0\.1:\d+/.test(e));

  it.runIf(local)('reuses services that answer without installing anything (empty cache, no mvn/go/apt-get)', () => {
    const port = (text: string): string => /:(\d+)/.exec(text.replace(/^\w+:\/\//, ''))?.[1] ?? '';
    const started = Date.now();
    const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
    const run = spawnSync(bash, [SCRIPT, 'up'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: minimalPath(),
        HOME: dir,
        MASKER_STACK_DIR: join(dir, 'stack'), // a fresh clone: nothing fetched or built yet
        MASKER_KAFKA_PORT: port(brokers[0] ?? ''),
        MASKER_REGISTRY_PORT: port(registryUrl),
        MASKER_REDIS_PORT: port(redisUrl),
        NODE_PATH: resolve(import.meta.dirname, '../../node_modules'),
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/fetching|building|installing/);
    expect(run.stdout).toContain(`KAFKA_BROKERS=127.0.0.1:${port(brokers[0] ?? '')}`);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
