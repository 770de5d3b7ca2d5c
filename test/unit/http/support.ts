import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { MaskerError } from '../../../src/errors.js';
import type { HttpAuditSink, ServeAuditEvent } from '../../../src/http/http-audit.js';
import { parseApiKeys, sha256Hex, type ApiKeyStore } from '../../../src/http/api-keys.js';
import { startMaskServer, type RunningMaskServer } from '../../../src/http/mask-server.js';
import { MaskService } from '../../../src/http/mask-service.js';
import { parsePolicy, type KeyRing } from '../../../src/masking/index.js';
import type { Logger } from '../../../src/observability/logger.js';
import { MaskerMetrics } from '../../../src/observability/metrics.js';
import type { ActivePolicy } from '../../../src/policy/active-policy.js';
import { parseSchema } from '../../../src/registry/schema-cache.js';

export const SECRET_EMAIL = 'sally.secret@example.org';
export const SECRET_NAME = 'Sally Secretname';

export const PERSON_SCHEMA = {
  type: 'record',
  name: 'Person',
  namespace: 'test.http',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'phone', type: ['null', 'string'], default: null, 'confluent:tags': ['PII', 'PHONE'] },
    { name: 'tags', type: { type: 'map', values: 'string' }, default: {} },
  ],
};

export function personRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 7, name: SECRET_NAME, email: SECRET_EMAIL, phone: { string: '+1 415 555 0134' }, tags: {}, ...overrides };
}

export const DEFAULT_POLICY_DOC = {
  apiVersion: 'masker/v1',
  kind: 'MaskingPolicy',
  name: 'default',
  rules: [
    { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email', domain: 'person-email' } },
    { name: 'phones', match: { tags: ['PHONE'] }, action: 'redact' },
  ],
};

export function activePolicy(doc: Record<string, unknown>, version = 1): ActivePolicy {
  const policy = parsePolicy(doc, 'test');
  return { name: policy.name, version, sha256: `sha-${policy.name}-${version}`, policy, disabledRules: new Set() };
}

export function keyRing(secret = 'http-test-secret-0123456789', id = 'k1'): KeyRing {
  const key = { id, secret: new TextEncoder().encode(secret) };
  return { active: key, keys: new Map([[id, key]]) };
}

export const KEY_ALL = 'all-policies-key-0123456789abcdef';
export const KEY_STRICT_ONLY = 'strict-only-key-0123456789abcdef';

export function testApiKeys(): ApiKeyStore {
  return parseApiKeys([
    { id: 'all', sha256: sha256Hex(KEY_ALL) },
    { id: 'strict-only', sha256: sha256Hex(KEY_STRICT_ONLY), policies: ['strict'] },
  ], 'test-keys');
}

/** An audit sink that keeps events in memory; `fail` makes writes reject. */
export class MemoryAuditSink implements HttpAuditSink {
  readonly description = 'memory';
  readonly events: ServeAuditEvent[] = [];
  fail = false;

  write(event: ServeAuditEvent): Promise<void> {
    if (this.fail) return Promise.reject(new Error('audit down'));
    this.events.push(event);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/** A logger whose output is collected (to check that no value is ever logged). */
export function memoryLogger(): { logger: Logger; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  return { logger: pino({ level: 'debug' }, stream), text: () => text };
}

/** A server over in-memory registry and policies (subject `people-value` → schema id 1). */
export async function startTestServer(options: {
  maxBodyBytes?: number; policies?: Map<string, ActivePolicy>;
  /** Awaited inside every subject lookup (to hold a call in flight). */
  beforeLookup?: () => Promise<void>;
} = {}): Promise<{
  server: RunningMaskServer; audit: MemoryAuditSink; logText: () => string; policies: Map<string, ActivePolicy>;
}> {
  const schema = parseSchema(1, JSON.stringify(PERSON_SCHEMA));
  const policies = options.policies ?? new Map([['default', activePolicy(DEFAULT_POLICY_DOC)]]);
  const service = new MaskService({
    registry: {
      latest: async (subject) => {
        await options.beforeLookup?.();
        return subject === 'people-value' ? { id: 1, version: 1, schema: schema.text } : undefined;
      },
    },
    lookup: {
      byId: (id) => (id === 1 ? Promise.resolve(schema) : Promise.reject(new MaskerError('MASKER_SCHEMA_NOT_FOUND', `schema id ${id}`))),
      register: () => Promise.reject(new Error('not used')),
    },
    policies: { policyFor: (route) => policies.get(route.policy) },
    servedPolicies: new Set(['default', 'strict']),
    defaultPolicy: 'default',
    keys: keyRing(),
  });
  const audit = new MemoryAuditSink();
  const { logger, text } = memoryLogger();
  const server = await startMaskServer({
    port: 0, service, apiKeys: testApiKeys(), audit, logger, metrics: new MaskerMetrics({ defaultMetrics: false }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  });
  return { server, audit, logText: text, policies };
}
