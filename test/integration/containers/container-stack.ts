import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { StartedTestContainer } from 'testcontainers';
import { waitFor } from '../support/cli-worker.js';

/**
 * Kafka, the schema registry and Redis as containers (testcontainers 10), for the integration suite when
 * MASKER_TEST_STACK=containers, or when no local stack tools are installed but a Docker engine answers
 * (test/integration/global-setup.ts decides). The images are built from deploy/containers/*\/Dockerfile by
 * deploy/containers/images.sh (a few seconds when Docker's cache has them; stand-ins for public base images
 * that cannot be pulled, see docs/containers.md).
 *
 * No second cluster or registry: the two-cluster tests skip (they need MASKER_TEST_TARGET_BROKERS).
 * Ports: ephemeral host ports, so this runs next to the local stack (19092/18081/16379, 29092/28081) and the
 * compose stack. Kafka listens inside the container on the same port it is published on, so the address it
 * advertises (127.0.0.1:<port>) works from the host.
 */

export const IMAGES_SCRIPT = fileURLToPath(new URL('../../../deploy/containers/images.sh', import.meta.url));
/** The local stack's Kafka health check: a produce + consume round trip (group coordinator loaded too). */
const KAFKA_PING = fileURLToPath(new URL('../../../deploy/local/kafka-ping.mjs', import.meta.url));

/** Every container started here carries this label: `docker rm -f $(docker ps -aq --filter label=masker.test-stack)`. */
export const STACK_LABEL = 'masker.test-stack';

export interface ContainerStack {
  /** KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL of the started containers. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops and removes the containers. */
  stop(): Promise<void>;
}

/** Whether a Docker engine answers (`docker info`). */
export function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Builds (or finds in Docker's cache) the service images; returns their tags by variable name. */
function serviceImages(): Record<string, string> {
  let out: string;
  try {
    out = execFileSync('bash', [IMAGES_SCRIPT, 'services'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 1_800_000,
    });
  } catch (cause) {
    throw new Error(`the container images could not be built (bash ${IMAGES_SCRIPT} services failed; its messages are above)`, { cause });
  }
  const images: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(MASKER_\w+_IMAGE)=(\S+)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) images[m[1]] = m[2];
  }
  return images;
}

function image(images: Record<string, string>, name: string): string {
  const tag = images[name];
  if (tag === undefined) throw new Error(`${IMAGES_SCRIPT} did not print ${name}=...`);
  return tag;
}

/** A host port nothing listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startContainerStack(): Promise<ContainerStack> {
  // Ryuk (the reaper container) is an image from Docker Hub; the teardown below removes what we start.
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= 'localhost';
  const images = serviceImages();
  const { GenericContainer, Wait } = await import('testcontainers');
  const labels = { [STACK_LABEL]: String(process.pid) };
  const kafkaPort = await freePort();

  const kafka = new GenericContainer(image(images, 'MASKER_KAFKA_IMAGE'))
    .withLabels(labels)
    .withEnvironment({
      KAFKA_LISTENERS: `PLAINTEXT://:${kafkaPort},CONTROLLER://:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '4',
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '4',
      KAFKA_TRANSACTION_MAX_TIMEOUT_MS: '900000',
    })
    .withExposedPorts({ container: kafkaPort, host: kafkaPort })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(240_000);
  const registry = new GenericContainer(image(images, 'MASKER_REGISTRY_IMAGE'))
    .withLabels(labels)
    .withExposedPorts(8081)
    .withWaitStrategy(Wait.forHttp('/subjects', 8081).forStatusCode(200))
    .withStartupTimeout(120_000);
  const redis = new GenericContainer(image(images, 'MASKER_REDIS_IMAGE'))
    .withLabels(labels)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .withStartupTimeout(120_000);

  const results = await Promise.allSettled([kafka.start(), registry.start(), redis.start()]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((c: StartedTestContainer) => c.stop({ timeout: 10_000 })));
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw new Error('a test container did not start', { cause: failed.reason });
  }
  const [k, s, r] = started as [StartedTestContainer, StartedTestContainer, StartedTestContainer];
  const brokers = `127.0.0.1:${k.getMappedPort(kafkaPort)}`;
  try {
    await kafkaRoundTrip(brokers, 120_000);
  } catch (cause) {
    await stop();
    throw cause;
  }
  return {
    env: {
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${s.getMappedPort(8081)}`,
      REDIS_URL: `redis://127.0.0.1:${r.getMappedPort(6379)}`,
    },
    stop,
  };
}

/**
 * "Kafka Server started" comes before a fresh broker can coordinate groups and transactions: wait, as the
 * local stack does, until a produce + consume round trip succeeds, so tests do not spend their time on it.
 */
async function kafkaRoundTrip(brokers: string, timeoutMs: number): Promise<void> {
  await waitFor(`the Kafka container (${brokers}) to complete a produce + consume round trip`, () => {
    try {
      execFileSync(process.execPath, [KAFKA_PING, brokers], { stdio: 'ignore', timeout: 40_000 });
      return Promise.resolve(true);
    } catch {
      return Promise.resolve(false);
    }
  }, timeoutMs, 500);
}
