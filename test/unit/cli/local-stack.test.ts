import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localStackEnv } from '../../../src/cli/local-stack.js';

/** How `masker demo` and the integration setup find services: the environment first, else `stack.sh up`. */

const dir = mkdtempSync(join(tmpdir(), 'masker-local-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const calls = join(dir, 'calls');
/** A stand-in for deploy/local/stack.sh: records its call and prints env lines as the real one does. */
const script = join(dir, 'stack.sh');
writeFileSync(script, `echo "$1 target=\${MASKER_STACK_TARGET:-}" >> ${calls}\necho '[stack] ready' >&2\necho KAFKA_BROKERS=127.0.0.1:19092\necho SCHEMA_REGISTRY_URL=http://127.0.0.1:18081\necho REDIS_URL=redis://127.0.0.1:16379\necho MASKER_TEST_TARGET_BROKERS=127.0.0.1:29092\n`);
const runs = (): string[] => {
  try {
    return readFileSync(calls, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

describe('localStackEnv', () => {
  it('starts nothing when the required variables are set', () => {
    expect(localStackEnv({ KAFKA_BROKERS: 'k:1', SCHEMA_REGISTRY_URL: 'http://r' }, { required: ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL'], script })).toEqual({});
    expect(runs()).toEqual([]);
  });

  it('runs `stack.sh up` otherwise and returns what it prints for the asked variables, never overriding a set one', () => {
    const env = localStackEnv({ SCHEMA_REGISTRY_URL: 'http://mine:8081' }, { required: ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL'], script, scriptEnv: { MASKER_STACK_TARGET: '1' } });
    expect(env).toEqual({ KAFKA_BROKERS: '127.0.0.1:19092' });
    expect(runs()).toEqual(['up target=1']);
    expect(localStackEnv({}, { required: ['KAFKA_BROKERS'], optional: ['MASKER_TEST_TARGET_BROKERS'], script }))
      .toEqual({ KAFKA_BROKERS: '127.0.0.1:19092', MASKER_TEST_TARGET_BROKERS: '127.0.0.1:29092' });
  });

  it('names the variables when there is no stack script', () => {
    expect(() => localStackEnv({}, { required: ['KAFKA_BROKERS'], script: join(dir, 'missing.sh') }))
      .toThrow(/KAFKA_BROKERS not set, and there is no local stack script/);
  });
});
