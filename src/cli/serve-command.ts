import type { Command } from 'commander';
import { loadEnv, required } from '../config/env.js';
import { loadKeyRing } from '../config/secrets.js';
import { MaskerError } from '../errors.js';
import {
  DEFAULT_MAX_BODY_BYTES, KafkaHttpAuditSink, loadApiKeys, LogHttpAuditSink, MIN_API_KEY_LENGTH, sha256Hex, startMaskApi,
  type HttpAuditSink, type MaskApi,
} from '../http/index.js';
import { ensureTopics } from '../kafka/admin.js';
import { createKafka } from '../kafka/client.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { POLICY_NAME } from '../policy/policy-source.js';
import { processIo, type CliIo } from './mask-command.js';
import { policyStoreSettings } from './policy-store-settings.js';

export interface ServeOptions {
  /** `--port`, default 8080; 0 picks a free port. */
  readonly port: string;
  /** `--host`, default 127.0.0.1. */
  readonly host: string;
  /** `--api-keys`; default MASKER_API_KEYS_FILE. Required one way or the other. */
  readonly apiKeys?: string;
  /** `--policy`: the policy of requests that name none. Default `default`. */
  readonly policy: string;
  /** `--policies`: policies folder, used when REDIS_URL is not set. Default `policies`. */
  readonly policies: string;
  /** `--max-body-bytes`, default 1 MiB. */
  readonly maxBodyBytes: string;
}

export interface ServeRuntime {
  readonly env: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Resolves (with a reason) when the server should stop. Default: the first SIGTERM or SIGINT. */
  readonly untilStopped?: (api: MaskApi) => Promise<string>;
}

/**
 * `masker serve`: the HTTP masking API until SIGTERM/SIGINT, then a graceful stop (no new calls; calls in
 * flight finish within 10 s; audit flushed). Audit events go to MASKER_AUDIT_TOPIC when KAFKA_BROKERS is
 * set, else to the structured log (said at startup).
 */
export async function serveCommand(options: ServeOptions, runtime: ServeRuntime): Promise<void> {
  const env = loadEnv(runtime.env);
  const logger = runtime.logger ?? createLogger(env.LOG_LEVEL);
  const port = intOption(options.port, '--port', 0, 65_535);
  const maxBodyBytes = intOption(options.maxBodyBytes, '--max-body-bytes', 1, 256 * 1024 * 1024);
  if (!POLICY_NAME.test(options.policy)) throw new MaskerError('MASKER_CONFIG', '--policy: expected a policy name [a-z0-9-]');
  const keysFile = options.apiKeys ?? runtime.env['MASKER_API_KEYS_FILE'];
  if (keysFile === undefined || keysFile === '') {
    throw new MaskerError('MASKER_CONFIG', 'no API keys: pass --api-keys FILE or set MASKER_API_KEYS_FILE (see docs/http-api.md)');
  }
  const apiKeys = loadApiKeys(keysFile);
  const keys = loadKeyRing(runtime.env);
  const registryUrl = required(env, 'SCHEMA_REGISTRY_URL');

  let audit: HttpAuditSink;
  if (env.KAFKA_BROKERS === undefined) {
    audit = new LogHttpAuditSink(logger);
    logger.warn('KAFKA_BROKERS is not set: audit events go to the structured log (stderr), not to an audit topic');
  } else {
    const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'masker-serve', logger });
    await ensureTopics(kafka, [{ topic: env.MASKER_AUDIT_TOPIC }]);
    const sink = new KafkaHttpAuditSink(kafka, env.MASKER_AUDIT_TOPIC, logger);
    await sink.start();
    audit = sink;
  }

  let api: MaskApi;
  try {
    api = await startMaskApi({
      port, host: options.host, apiKeys, defaultPolicy: options.policy, policiesDir: options.policies,
      ...policyStoreSettings(runtime.env), registryUrl, keys, audit, logger, maxBodyBytes,
    });
  } catch (err) {
    await audit.stop();
    throw err;
  }
  logger.info({
    url: api.url, keyId: keys.active.id, apiKeys: apiKeys.size, defaultPolicy: options.policy, servedPolicies: api.servedPolicies,
    policies: api.policySource, audit: audit.description, maxBodyBytes,
  }, 'masker serve listening');

  const reason = await (runtime.untilStopped ?? untilSignal)(api);
  logger.info({ reason }, 'shutting down: no new calls; calls in flight finish (≤ 10 s)');
  try {
    await api.close(10_000);
  } finally {
    await audit.stop();
  }
  logger.info('stopped');
}

function untilSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** `masker serve hash-key`: prints the hex SHA-256 of the key read from stdin (one trailing newline ignored). */
export async function hashKeyCommand(io: Pick<CliIo, 'stdin' | 'stdout'>): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const key = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/\s/.test(key)) throw new MaskerError('MASKER_INPUT', 'hash-key: the key must not contain whitespace (one trailing newline is ignored)');
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new MaskerError('MASKER_INPUT', `hash-key: the key must be at least ${MIN_API_KEY_LENGTH} characters (e.g. openssl rand -base64 32)`);
  }
  io.stdout.write(`${sha256Hex(key)}\n`);
}

function intOption(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new MaskerError('MASKER_CONFIG', `${name}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

export function registerServeCommand(program: Command, io: CliIo = processIo()): void {
  const serve = program
    .command('serve')
    .description('HTTP masking API: POST /v1/mask with API keys; /metrics, /healthz, /readyz (registry from SCHEMA_REGISTRY_URL; policies from REDIS_URL or --policies; audit to MASKER_AUDIT_TOPIC when KAFKA_BROKERS is set)')
    .option('--port <n>', 'TCP port (0: a free port chosen by the system)', '8080')
    .option('--host <addr>', 'interface to bind', '127.0.0.1')
    .option('--api-keys <file>', 'API keys file (YAML/JSON list of {id, sha256, policies?}); default MASKER_API_KEYS_FILE')
    .option('--policy <name>', 'policy of requests that name none', 'default')
    .option('--policies <dir>', 'folder of policy files, used when REDIS_URL is not set', 'policies')
    .option('--max-body-bytes <n>', 'largest accepted request body', String(DEFAULT_MAX_BODY_BYTES))
    .action(async (opts: ServeOptions) => {
      await serveCommand(opts, { env: io.env });
    });
  serve
    .command('hash-key')
    .description('print the SHA-256 (hex) of an API key read from stdin, for the API keys file')
    .action(async () => {
      await hashKeyCommand(io);
    });
}
