import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { registerPolicyCommand } from '../../../src/cli/policy-command.js';
import type { Logger } from '../../../src/observability/logger.js';
import { PolicyWatcher } from '../../../src/policy/policy-watcher.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../../src/policy/redis-policy-admin.js';
import { RedisPolicySource } from '../../../src/policy/redis-policy-source.js';
import { deleteKeys, policyDoc, redisUrl, testClient, uniquePrefix } from './support.js';
import { waitFor } from '../support/cli-worker.js';

/** `masker policy route`: refuses what no worker runs, `--clear` removes an override, workers say when one wins. */
describe('route overrides in Redis', () => {
  let client: Redis;
  let prefix: string;
  let dir: string;
  let routes: string;
  let err: string[];
  const watchers: PolicyWatcher[] = [];

  beforeEach(async () => {
    client = testClient();
    prefix = uniquePrefix();
    dir = await mkdtemp(join(tmpdir(), 'masker-route-override-'));
    routes = join(dir, 'topics');
    await mkdir(routes);
    await writeFile(join(routes, 'customers.yaml'), 'apiVersion: masker/v1\nkind: Route\nname: customers\nsource: { topic: a.src }\ntarget: { topic: a.dst }\npolicy: shop\n');
    const admin = new RedisPolicyAdmin({ client, prefix });
    await admin.push(policyDoc('shop'), { by: 'test', origin: 'shop' });
    await admin.push(policyDoc('strict'), { by: 'test', origin: 'strict' });
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
    await deleteKeys(client, prefix);
    await closeRedis(client);
    await rm(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  /** `masker policy <args>` in-process against the test's own key prefix. */
  async function masker(args: string[]): Promise<void> {
    err = [];
    const program = new Command('masker').exitOverride();
    registerPolicyCommand(program, { env: { REDIS_URL: redisUrl() }, prefix, out: { write: () => true }, err: { write: (s: string) => err.push(s) } });
    await program.parseAsync(['policy', ...args], { from: 'user' });
  }

  it('refuses a route the routes folder does not define, and a policy Redis does not hold: exit 2, nothing written', async () => {
    await expect(masker(['route', 'custmers', 'strict', '--routes', routes]))
      .rejects.toMatchObject({ code: 'MASKER_INPUT', message: expect.stringContaining(`route "custmers" is not defined in ${routes} (routes there: customers)`) as unknown });
    await expect(masker(['route', 'customers', 'ghost', '--routes', routes]))
      .rejects.toMatchObject({ code: 'MASKER_POLICY_MISSING', message: expect.stringContaining('policy "ghost" is not in') as unknown });
    expect(await client.exists(`${prefix}:route:custmers:policy`, `${prefix}:route:customers:policy`)).toBe(0);

    // The same through the CLI entry point: exit 2 and the message (refused before anything is written).
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    });
    vi.stubEnv('REDIS_URL', redisUrl());
    expect(await main(['policy', 'route', 'custmers', 'strict', '--routes', routes])).toBe(2);
    expect(stderr).toContain('masker: MASKER_INPUT: route "custmers" is not defined in');
    expect(await main(['policy', 'route', 'customers', '--routes', routes])).toBe(2);
    expect(stderr).toContain('expected a POLICY to switch to, or --clear to remove the override');
  });

  it('--clear removes an override: the worker says when one wins and when it is gone, and follows', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const route = { name: 'customers', policy: 'shop' };
    const watcher = new PolicyWatcher({ source: RedisPolicySource.fromUrl(redisUrl(), { prefix }), routes: [route], pollIntervalMs: 60_000, logger });
    watchers.push(watcher);
    await watcher.start();
    expect(watcher.policyFor(route)?.name).toBe('shop');

    await masker(['route', 'customers', 'strict', '--routes', routes]);
    expect(err.join('')).toContain('route customers now uses strict (v1), overriding shop from its route file');
    await waitFor('the watcher to follow', async () => watcher.policyFor(route)?.name === 'strict', 10_000, 50);
    const warnings = lines.filter((l) => l['level'] === 40 && String(l['msg']).startsWith('route policy overridden'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ route: 'customers', routeFilePolicy: 'shop', overridePolicy: 'strict' });
    await watcher.refresh();
    expect(lines.filter((l) => String(l['msg']).startsWith('route policy overridden'))).toHaveLength(1); // once per change

    await masker(['route', 'customers', '--clear', '--routes', routes]);
    expect(err.join('')).toContain('route customers: override removed (it named strict); it uses shop from its route file');
    expect(await client.exists(`${prefix}:route:customers:policy`)).toBe(0);
    await waitFor('the watcher to follow', async () => watcher.policyFor(route)?.name === 'shop', 10_000, 50); // the notice, not the (60 s) poll
    expect(lines.some((l) => String(l['msg']).startsWith('route policy override removed'))).toBe(true);

    await masker(['route', 'customers', '--clear', '--routes', routes]);
    expect(err.join('')).toContain('route customers has no override; it uses shop');
  });
});
