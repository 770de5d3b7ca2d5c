import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { serveCommand, type ServeOptions } from '../../../src/cli/serve-command.js';
import { sha256Hex } from '../../../src/http/api-keys.js';
import type { MaskApi } from '../../../src/http/mask-api.js';
import { RegistryClient } from '../../../src/registry/registry-client.js';
import { consumeAll, deleteTopics, endpoints, testKafka, unique } from '../support/services.js';
import { customersExample, memoryLogger, RAW_CUSTOMER_VALUES, REPO } from './support.js';

const API_KEY = 'serve-command-key-0123456789abcdef';

/** A policies folder (a copy of the shipped default policy) and an API keys file, as an operator lays them out. */
function writeSetup(): { dir: string; policies: string; keysFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'masker-serve-'));
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  copyFileSync(join(REPO, 'policies/default.yaml'), join(policies, 'default.yaml'));
  const keysFile = join(dir, 'api-keys.yaml');
  writeFileSync(keysFile, `# masker serve API keys\n- id: it-client\n  sha256: ${sha256Hex(API_KEY)}\n`);
  return { dir, policies, keysFile };
}

function options(policies: string, overrides: Partial<ServeOptions> = {}): ServeOptions {
  return { port: '0', host: '127.0.0.1', policy: 'default', policies, maxBodyBytes: String(1024 * 1024), ...overrides };
}

async function maskOnce(api: MaskApi, subject: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${api.url}/v1/mask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject, record: customersExample().record }),
  });
  return { status: res.status, text: await res.text() };
}

describe('masker serve (the command, in process)', () => {
  const setup = writeSetup();
  const kafka = testKafka();
  const auditTopic = unique('it.serve.audit');
  const subject = `${unique('it.serve.customers')}-value`;
  afterAll(async () => {
    rmSync(setup.dir, { recursive: true, force: true });
    await deleteTopics(kafka, [auditTopic]);
  });

  it('serves with policies from a folder, audits to MASKER_AUDIT_TOPIC, and stops gracefully', async () => {
    await new RegistryClient({ url: endpoints().registryUrl }).register(subject, customersExample().schemaText);
    const log = memoryLogger();
    let answer: { status: number; text: string } | undefined;
    await serveCommand(options(setup.policies), {
      env: {
        KAFKA_BROKERS: endpoints().brokers.join(','), SCHEMA_REGISTRY_URL: endpoints().registryUrl, MASKER_AUDIT_TOPIC: auditTopic,
        MASKER_SECRET: 'serve-command-secret-0123456789', MASKER_API_KEYS_FILE: setup.keysFile,
      },
      logger: log.logger,
      untilStopped: async (api) => {
        expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
        answer = await maskOnce(api, subject);
        return 'test done';
      },
    });
    expect(answer?.status).toBe(200);
    for (const raw of RAW_CUSTOMER_VALUES) expect(answer?.text).not.toContain(raw);
    expect(log.text()).toContain('masker serve listening');
    expect(log.text()).toContain(`Kafka topic ${auditTopic}`);
    expect(log.text()).toContain('"msg":"stopped"');
    const [message] = await consumeAll(kafka, auditTopic, 1, { timeoutMs: 15_000, settleMs: 200 });
    expect(JSON.parse(message?.value?.toString('utf8') ?? '{}')).toMatchObject({ type: 'http-mask', apiKeyId: 'it-client', subject, status: 200, outcome: 'masked' });
  });

  it('audits to the structured log when KAFKA_BROKERS is not set, and says so', async () => {
    const log = memoryLogger();
    await serveCommand(options(setup.policies, { apiKeys: setup.keysFile }), {
      env: { SCHEMA_REGISTRY_URL: endpoints().registryUrl, MASKER_SECRET: 'serve-command-secret-0123456789' },
      logger: log.logger,
      untilStopped: async (api) => {
        expect((await maskOnce(api, subject)).status).toBe(200);
        return 'test done';
      },
    });
    expect(log.text()).toContain('KAFKA_BROKERS is not set: audit events go to the structured log');
    const line = log.text().split('\n').find((l) => l.includes('"audit":{'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ audit: { type: 'http-mask', apiKeyId: 'it-client', status: 200, fields: expect.arrayContaining([{ path: 'after.email', action: 'pseudonymize', rule: 'emails' }]) as unknown } });
    for (const raw of RAW_CUSTOMER_VALUES) expect(log.text()).not.toContain(raw);
  });

  it('refuses to start without API keys or with bad settings (exit 2 through the CLI)', async () => {
    const env = { SCHEMA_REGISTRY_URL: endpoints().registryUrl, MASKER_SECRET: 'serve-command-secret-0123456789' };
    await expect(serveCommand(options(setup.policies), { env, logger: memoryLogger().logger }))
      .rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining('--api-keys') as unknown });
    await expect(serveCommand(options(setup.policies, { apiKeys: setup.keysFile, port: '99999' }), { env }))
      .rejects.toMatchObject({ code: 'MASKER_CONFIG', message: expect.stringContaining('--port') as unknown });
    expect(await main(['serve', '--max-body-bytes', 'lots', '--api-keys', setup.keysFile])).toBe(2);
  });
});
