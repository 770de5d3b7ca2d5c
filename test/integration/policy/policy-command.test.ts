import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { registerPolicyCommand } from '../../../src/cli/policy-command.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { deleteKeys, PHONES_RULE, policyDoc, redisUrl, testClient, uniquePrefix } from './support.js';

describe('masker policy (CLI against Redis)', () => {
  let client: Redis;
  let prefix: string;
  let dir: string;
  let out: string[];
  let err: string[];
  let exitCode = 0;

  beforeEach(async () => {
    client = testClient();
    prefix = uniquePrefix();
    dir = await mkdtemp(join(tmpdir(), 'masker-cli-'));
  });
  afterEach(async () => {
    await deleteKeys(client, prefix);
    await closeRedis(client);
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `masker policy <args>` in-process, with its output collected. */
  async function masker(args: string[], env: NodeJS.ProcessEnv = { REDIS_URL: redisUrl() }): Promise<void> {
    out = [];
    err = [];
    const program = new Command('masker').exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => out.push(s) });
    exitCode = 0;
    registerPolicyCommand(program, { env, prefix, out: { write: (s: string) => out.push(s) }, err: { write: (s: string) => err.push(s) }, setExitCode: (c) => { exitCode = c; } });
    await program.parseAsync(['policy', ...args], { from: 'user' });
  }

  async function file(name: string, doc: unknown, yaml = true): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, yaml ? toYaml(doc) : JSON.stringify(doc));
    return path;
  }

  it('push, list, show, diff, rollback, toggle, route', async () => {
    const v1 = await file('v1.yaml', policyDoc('shop'));
    const v2 = await file('v2.json', policyDoc('shop', [PHONES_RULE]), false);
    await masker(['push', v1, '--by', 'alice']);
    expect(err.join('')).toMatch(/^pushed shop v1 \(sha256 [0-9a-f]{12}, unsigned\)/);
    await masker(['push', v2, '--by', 'bob']);
    await masker(['push', v2]);
    expect(err.join('')).toContain('shop unchanged at v2');

    await masker(['list']);
    expect(out.join('')).toMatch(/NAME\s+VERSION.*\nshop\s+2\s+[0-9a-f]{12}\s+no\s+\S+\s+bob\s+-\n/);

    await masker(['show', 'shop', '--version', '1']);
    expect(JSON.parse(out.join(''))).toEqual(policyDoc('shop'));
    expect(err.join('')).toContain('# shop v1 sha256');

    await masker(['diff', 'shop', '--from', '1', '--to', '2']);
    expect(out.join('')).toContain('+      "name": "phones"');
    expect(exitCode).toBe(1);
    await masker(['diff', 'shop', v2]);
    expect(err.join('')).toContain('no differences');
    expect(exitCode).toBe(0);

    await masker(['rollback', 'shop', '--to', '1', '--by', 'carol']);
    expect(err.join('')).toContain('now v3');
    expect(await client.hget(`${prefix}:policy:shop`, 'version')).toBe('3');

    await masker(['push', v2]);
    await masker(['toggle', 'shop', 'phones', 'off']);
    expect(await client.hget(`${prefix}:toggles:shop`, 'phones')).toBe('off');

    await masker(['route', 'customers', 'shop']);
    expect(await client.get(`${prefix}:route:customers:policy`)).toBe('shop');
  });

  it('fails with MASKER_CONFIG naming REDIS_URL when it is not set', async () => {
    await expect(masker(['list'], {})).rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining('REDIS_URL') as unknown });
  });

  it('refuses an invalid policy file with the JSON path at fault, writing nothing', async () => {
    const bad = await file('bad.yaml', { ...policyDoc('shop'), rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact', extra: 1 }] });
    await expect(masker(['push', bad])).rejects.toMatchObject({ code: 'MASKER_POLICY_INVALID', message: expect.stringContaining('rules[0].extra') as unknown });
    expect(await client.exists(`${prefix}:policy:shop`)).toBe(0);
  });

  it('refuses unknown rules, bad toggle states and bad versions', async () => {
    await masker(['push', await file('p.yaml', policyDoc('shop'))]);
    await expect(masker(['toggle', 'shop', 'ghost', 'off'])).rejects.toMatchObject({ code: 'MASKER_INPUT' });
    await expect(masker(['toggle', 'shop', 'emails', 'maybe'])).rejects.toMatchObject({ code: 'MASKER_INPUT' });
    await expect(masker(['show', 'shop', '--version', 'two'])).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    await expect(masker(['diff', 'shop'])).rejects.toMatchObject({ code: 'MASKER_INPUT' });
  });

  it('signs with MASKER_POLICY_SIGNING_KEY and never prints the key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const env = {
      REDIS_URL: redisUrl(),
      MASKER_POLICY_SIGNING_KEY: privatePem,
      MASKER_POLICY_VERIFY_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    await masker(['push', await file('p.yaml', policyDoc('shop'))], env);
    expect(err.join('')).toContain('signed)');
    await masker(['list', '--json'], env);
    expect(JSON.parse(out.join(''))).toMatchObject([{ name: 'shop', signed: true }]);
    expect(`${out.join('')}${err.join('')}`).not.toContain('PRIVATE');
  });
});

describe('masker policy push checks the routes that use the policy', () => {
  let client: Redis;
  let prefix: string;
  let dir: string;
  const err: string[] = [];

  beforeEach(async () => {
    client = testClient();
    prefix = uniquePrefix();
    dir = await mkdtemp(join(tmpdir(), 'masker-push-check-'));
  });
  afterEach(async () => {
    await deleteKeys(client, prefix);
    await closeRedis(client);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a policy its routes\' latest schemas cannot take, and pushes one they can', async () => {
    const registryUrl = process.env['SCHEMA_REGISTRY_URL']!;
    const source = `it.pushcheck.${prefix.slice(-8)}`;
    const schema = { type: 'record', name: 'P', namespace: 'it.pushcheck', fields: [{ name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] }] };
    const res = await fetch(`${registryUrl}/subjects/${source}-value/versions`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
    expect(res.ok).toBe(true);
    const routes = join(dir, 'topics');
    await mkdir(routes);
    await writeFile(join(routes, 'r.yaml'), `apiVersion: masker/v1\nkind: Route\nname: pushcheck\nsource: { topic: ${source} }\ntarget: { topic: ${source}.masked }\npolicy: pushcheck\nkey: keep\n`);
    const bad = join(dir, 'bad.yaml');
    // nullify on a non-nullable string: a plan error for this schema.
    await writeFile(bad, toYaml({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'pushcheck', rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'nullify' }] }));
    const good = join(dir, 'good.yaml');
    await writeFile(good, toYaml({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'pushcheck', rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' }] }));

    const run = async (file: string): Promise<void> => {
      const program = new Command('masker').exitOverride();
      registerPolicyCommand(program, { env: { REDIS_URL: redisUrl(), SCHEMA_REGISTRY_URL: registryUrl }, prefix, out: { write: () => undefined }, err: { write: (s: string) => err.push(s) } });
      await program.parseAsync(['policy', 'push', file, '--routes', routes], { from: 'user' });
    };
    await expect(run(bad)).rejects.toMatchObject({ code: 'MASKER_PLAN', message: expect.stringMatching(/route pushcheck, .*-value v1: .*nullify/) });
    expect(await client.exists(`${prefix}:policy:pushcheck`)).toBe(0);
    await run(good);
    expect(await client.hget(`${prefix}:policy:pushcheck`, 'version')).toBe('1');
  });
});
