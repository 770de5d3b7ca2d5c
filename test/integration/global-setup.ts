import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Where integration tests find their services, in this order:
 *  1. KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL already set → use them as they are (two-cluster
 *     tests run only when MASKER_TEST_TARGET_BROKERS is set too, target-registry tests when
 *     MASKER_TEST_TARGET_REGISTRY_URL is);
 *  2. otherwise → `deploy/local/stack.sh up` starts (or reuses) the local stack, with its second cluster
 *     and second registry (MASKER_STACK_TARGET=1), and we use what it prints. They are exposed to tests as
 *     MASKER_TEST_TARGET_BROKERS / MASKER_TEST_TARGET_REGISTRY_URL, never as TARGET_KAFKA_BROKERS /
 *     TARGET_SCHEMA_REGISTRY_URL (that would switch every worker to two clusters).
 * The stack is left running for the next run; `npm run stack:down` (or .ci/run) stops it.
 */
export default function setup(): void {
  const wanted = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL'];
  if (wanted.every((k) => (process.env[k] ?? '') !== '')) return;
  const script = resolve(import.meta.dirname, '../../deploy/local/stack.sh');
  const out = execFileSync('bash', [script, 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
    env: { ...process.env, MASKER_STACK_TARGET: '1', MASKER_STACK_TARGET_ENV: 'test' },
  });
  const accepted = [...wanted, 'MASKER_TEST_TARGET_BROKERS', 'MASKER_TEST_TARGET_REGISTRY_URL'];
  for (const line of out.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined && accepted.includes(m[1]) && (process.env[m[1]] ?? '') === '') {
      process.env[m[1]] = m[2];
    }
  }
}
