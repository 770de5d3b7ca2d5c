import { localStackEnv } from '../../src/cli/local-stack.js';

/**
 * Where integration tests find their services, in this order:
 *  1. KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL already set → use them as they are (two-cluster
 *     tests run only when MASKER_TEST_TARGET_BROKERS is set too, target-registry tests when
 *     MASKER_TEST_TARGET_REGISTRY_URL is);
 *  2. otherwise → `deploy/local/stack.sh up` starts (or reuses) the local stack, with its second cluster
 *     and second registry (MASKER_STACK_TARGET=1), and we use what it prints. They are exposed to tests as
 *     MASKER_TEST_TARGET_BROKERS / MASKER_TEST_TARGET_REGISTRY_URL, never as TARGET_KAFKA_BROKERS /
 *     TARGET_SCHEMA_REGISTRY_URL (that would switch every worker to two clusters).
 * The stack is left running for the next run; `npm run stack:down` (or .ci/run) stops it. `masker demo`
 * finds its services the same way (src/cli/local-stack.ts).
 */
export default function setup(): void {
  Object.assign(process.env, localStackEnv(process.env, {
    required: ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL'],
    optional: ['MASKER_TEST_TARGET_BROKERS', 'MASKER_TEST_TARGET_REGISTRY_URL'],
    scriptEnv: { MASKER_STACK_TARGET: '1', MASKER_STACK_TARGET_ENV: 'test' },
  }));
}
