import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { captureCliStderr } from './support.js';

/** A KAFKA_BROKERS where nothing answers fails at start-up within seconds, naming the variable and address. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let closed: number;
let silent: Server;
let silentPort: number;
const accepted: Socket[] = [];

beforeAll(async () => {
  // A port nothing listens on (bound, then released), and one that accepts connections but never answers.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closed = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  silent = createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

const stderr = captureCliStderr({ METRICS_PORT: '0', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9' });

describe('masker run with a KAFKA_BROKERS where no broker answers', () => {
  it.each([
    ['nothing listening', () => `127.0.0.1:${closed}`],
    ['a port that never answers', () => `127.0.0.1:${silentPort}`],
  ])('%s: exits 2 within seconds, naming KAFKA_BROKERS and the address', async (_name, address) => {
    vi.stubEnv('KAFKA_BROKERS', address());
    const started = Date.now();
    const code = await main(['run', '--routes', `${ROOT}topics`, '--policies', `${ROOT}policies`]);
    expect(code).toBe(2);
    expect(stderr()).toContain(`masker: MASKER_CONFIG: KAFKA_BROKERS=${address()}: no Kafka broker answers there`);
    // Not a performance figure: kafkajs' own retry schedule took ~50 s and never named the variable.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
