import { execFileSync } from 'node:child_process';
import { localStackEnv } from '../../src/cli/local-stack.js';

/**
 * Where integration tests find their services, in this order:
 *  1. MASKER_TEST_STACK=containers → Kafka, the registry and Redis start as containers (testcontainers,
 *     images from deploy/containers/; ./containers/container-stack.ts) and are removed after the run;
 *     endpoints already in the environment are replaced, and there is no second cluster or registry;
 *  2. KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL already set → use them as they are (two-cluster
 *     tests run only when MASKER_TEST_TARGET_BROKERS is set too, target-registry tests when
 *     MASKER_TEST_TARGET_REGISTRY_URL is);
 *  3. no local stack tools (java, mvn, go) but a Docker engine answers → containers, as in 1;
 *  4. otherwise → `deploy/local/stack.sh up` starts (or reuses) the local stack, with its second cluster
 *     and second registry (MASKER_STACK_TARGET=1), and we use what it prints. They are exposed to tests as
 *     MASKER_TEST_TARGET_BROKERS / MASKER_TEST_TARGET_REGISTRY_URL, never as TARGET_KAFKA_BROKERS /
 *     TARGET_SCHEMA_REGISTRY_URL (that would switch every worker to two clusters).
 * The local stack is left running for the next run; `npm run stack:down` (or .ci/run) stops it. `masker
 * demo` finds its services the same way as 2 and 4 (src/cli/local-stack.ts). MASKER_TEST_STACK=local skips 3.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const required = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL'];
  const mode = process.env['MASKER_TEST_STACK'] ?? '';
  if (mode !== '' && mode !== 'containers' && mode !== 'local') {
    throw new Error(`MASKER_TEST_STACK=${mode}: expected containers or local (or unset)`);
  }
  const endpointsSet = required.every((k) => (process.env[k] ?? '') !== '');
  if (mode === 'containers' || (mode === '' && !endpointsSet && !localStackTools())) {
    const { dockerAnswers, startContainerStack } = await import('./containers/container-stack.js');
    if (!dockerAnswers()) {
      throw new Error(mode === 'containers'
        ? 'MASKER_TEST_STACK=containers, but no Docker engine answers (docker info failed): start dockerd, see docs/containers.md'
        : 'no local stack tools (java, mvn, go) and no Docker engine: install one of them, or set KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL');
    }
    const stack = await startContainerStack();
    for (const k of ['MASKER_TEST_TARGET_BROKERS', 'MASKER_TEST_TARGET_REGISTRY_URL']) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, stack.env);
    return stack.stop;
  }
  Object.assign(process.env, localStackEnv(process.env, {
    required,
    optional: ['MASKER_TEST_TARGET_BROKERS', 'MASKER_TEST_TARGET_REGISTRY_URL'],
    scriptEnv: { MASKER_STACK_TARGET: '1', MASKER_STACK_TARGET_ENV: 'test' },
  }));
  return undefined;
}

/** Whether deploy/local/stack.sh can install its services here: it needs Java, Maven and Go. */
function localStackTools(): boolean {
  return ['java', 'mvn', 'go'].every((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}
