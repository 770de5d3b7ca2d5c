import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { captureCliStderr } from './support.js';
import { sha256Hex } from '../../../src/http/api-keys.js';
import { startHealthServer } from '../../../src/observability/health-server.js';
import { MaskerMetrics } from '../../../src/observability/metrics.js';

/** A port that is already taken ends in a message naming the address and the setting that moves it (exit 2). */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'masker-port-'));
let blocker: Server;
let busy: number;

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  busy = (blocker.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const stderr = captureCliStderr({});

describe('a port already in use', () => {
  it('masker serve --port: names the address and --port', async () => {
    const keys = join(dir, 'keys.yaml');
    writeFileSync(keys, `- id: ci\n  sha256: ${sha256Hex('a-client-key-of-enough-length-0123')}\n`);
    vi.stubEnv('KAFKA_BROKERS', '');
    vi.stubEnv('SCHEMA_REGISTRY_URL', 'http://127.0.0.1:9');
    const code = await main(['serve', '--port', String(busy), '--api-keys', keys, '--policies', join(ROOT, 'policies')]);
    expect(stderr()).toContain(`masker: MASKER_CONFIG: cannot listen on 127.0.0.1:${busy}: port ${busy} is already in use`);
    expect(stderr()).toContain('pass --port with a free port');
    expect(stderr()).not.toContain('unexpected error');
    expect(code).toBe(2);
  });

  it('masker run: the metrics/health port names METRICS_PORT', async () => {
    vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:9');
    vi.stubEnv('SCHEMA_REGISTRY_URL', 'http://127.0.0.1:9');
    vi.stubEnv('METRICS_PORT', String(busy));
    const code = await main(['run', '--routes', join(ROOT, 'topics'), '--policies', join(ROOT, 'policies')]);
    expect(stderr()).toContain(`masker: MASKER_CONFIG: cannot listen on 127.0.0.1:${busy}: port ${busy} is already in use`);
    expect(stderr()).toContain('set METRICS_PORT to a free port (0 turns the metrics/health server off)');
    expect(code).toBe(2);
  });

  it('the health server says which setting moves it when told', async () => {
    await expect(startHealthServer({
      port: busy, host: '127.0.0.1', metrics: new MaskerMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true }), setting: 'use --metrics-port',
    })).rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining(`127.0.0.1:${busy}: port ${busy} is already in use (another masker, or another program); use --metrics-port`) as unknown });
  });
});
