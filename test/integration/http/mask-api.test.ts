import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../../src/config/secrets.js';
import { parseApiKeys, sha256Hex } from '../../../src/http/api-keys.js';
import { KafkaHttpAuditSink, type HttpAuditEvent, type ServeAuditEvent } from '../../../src/http/http-audit.js';
import { startMaskApi, type MaskApi } from '../../../src/http/mask-api.js';
import { compilePlan, maskRecord, parsePolicy } from '../../../src/masking/index.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisPolicyAdmin } from '../../../src/policy/redis-policy-admin.js';
import { RegistryClient } from '../../../src/registry/registry-client.js';
import { parseSchema } from '../../../src/registry/schema-cache.js';
import { deleteKeys, redisUrl, testClient, uniquePrefix } from '../policy/support.js';
import { waitFor } from '../support/cli-worker.js';
import { consumeAll, createTopics, deleteTopics, endpoints, testKafka, unique } from '../support/services.js';
import { customersExample, memoryLogger, RAW_CUSTOMER_VALUES, shippedPolicyDoc } from './support.js';

const KEY_ALL = 'it-all-policies-key-0123456789abcdef';
const KEY_STRICT = 'it-strict-only-key-0123456789abcdef';
const SECRET = 'http-integration-secret-0123456789';

const PERSON_SCHEMA = {
  type: 'record', name: 'Person', namespace: 'it.http',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'nickname', type: ['null', 'string'], default: null },
  ],
};
const STRICT_DOC = {
  apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'strict', rules: [{ name: 'all-pii', match: { tags: ['PII'] }, action: 'redact' }],
};

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
  readonly headers: Headers;
}

describe('masker serve: POST /v1/mask over real HTTP, registry, Redis policies and Kafka audit', () => {
  const kafka = testKafka();
  const redis = testClient();
  const prefix = uniquePrefix();
  const auditTopic = unique('it.http.audit');
  const customersSubject = `${unique('it.http.customers')}-value`;
  const personSubject = `${unique('it.http.person')}-value`;
  const registry = new RegistryClient({ url: endpoints().registryUrl });
  const keys = parseKeyRing(SECRET, 'MASKER_SECRET'); // a plain secret: key id `default`
  const log = memoryLogger('debug');
  const answers: Answer[] = [];
  let sink: KafkaHttpAuditSink;
  let api: MaskApi;
  let customersId = 0;

  beforeAll(async () => {
    await createTopics(kafka, [auditTopic]);
    const admin = new RedisPolicyAdmin({ client: redis, prefix });
    await admin.push(shippedPolicyDoc(), { by: 'it', origin: 'policies/default.yaml' });
    await admin.push(STRICT_DOC, { by: 'it', origin: 'strict' });
    customersId = await registry.register(customersSubject, customersExample().schemaText);
    await registry.register(personSubject, JSON.stringify(PERSON_SCHEMA));
    sink = new KafkaHttpAuditSink(kafka, auditTopic, log.logger);
    await sink.start();
    api = await startMaskApi({
      port: 0,
      apiKeys: parseApiKeys([{ id: 'all', sha256: sha256Hex(KEY_ALL) }, { id: 'strict-only', sha256: sha256Hex(KEY_STRICT), policies: ['strict'] }], 'it'),
      defaultPolicy: 'default',
      policiesDir: '/nonexistent',
      redisUrl: redisUrl(),
      policyPrefix: prefix,
      pollIntervalMs: 500,
      registryUrl: endpoints().registryUrl,
      keys,
      audit: sink,
      logger: log.logger,
    });
  });

  afterAll(async () => {
    await api?.close();
    await sink?.stop();
    await deleteKeys(redis, prefix);
    await closeRedis(redis);
    await deleteTopics(kafka, [auditTopic]);
  });

  async function call(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${api.url}/v1/mask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_ALL}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const answer = { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text, headers: res.headers };
    answers.push(answer);
    return answer;
  }

  it('is ready with the default policy from Redis; serves default and strict', async () => {
    expect(api.servedPolicies).toEqual(['default', 'strict']);
    expect(await (await fetch(`${api.url}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  it('masks a Debezium record by subject: exactly what the stream engine produces, no raw value in the answer', async () => {
    const { record } = customersExample();
    const res = await call({ subject: customersSubject, record });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schemaId: customersId, keyId: 'default', policy: { name: 'default', version: 1 } });
    for (const raw of RAW_CUSTOMER_VALUES) expect(res.text).not.toContain(raw);

    // The stream path: the same schema from the registry, the same policy and key, maskRecord directly.
    const schema = parseSchema(customersId, (await registry.schemaById(customersId)).schema);
    const plan = compilePlan(schema.type, parsePolicy(shippedPolicyDoc(), 'default'), { envelope: 'debezium', schemaJson: schema.json });
    const streamMasked = maskRecord(plan, schema.type.fromString(JSON.stringify(record)), keys);
    expect(res.body['record']).toEqual(JSON.parse(schema.type.toString(streamMasked.value)));
    const after = (res.body['record'] as { after: Record<string, Record<string, unknown>> }).after['dbserver1.inventory.customers.Value'];
    const streamAfter = (streamMasked.value as { after: Record<string, unknown> }).after;
    expect(after?.['email']).toBe(streamAfter['email']); // same pseudonym as the stream for the same key + domain
    expect(after?.['email']).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(res.body['fields']).toEqual(streamMasked.fields.map((f) => ({ path: f.path, action: f.action, rule: f.rule })));
  });

  it('masks by schema id too, with the same pseudonyms across subjects (domain person-email)', async () => {
    const bySubject = await call({ subject: personSubject, record: { id: 1, email: 'sally.thomas@acme.com', nickname: { string: 'sal' } } });
    expect(bySubject.status).toBe(200);
    const byId = await call({ schemaId: bySubject.body['schemaId'], record: { id: 1, email: 'sally.thomas@acme.com', nickname: null }, envelope: 'none' });
    expect(byId.status).toBe(200);
    const customers = answers.find((a) => a.body['schemaId'] === customersId)?.body['record'] as { after: Record<string, { email: string }> };
    const email = customers.after['dbserver1.inventory.customers.Value']?.email;
    expect((bySubject.body['record'] as { email: string }).email).toBe(email);
    expect((byId.body['record'] as { email: string }).email).toBe(email);
    expect((bySubject.body['record'] as { nickname: unknown }).nickname).toEqual({ string: 'sal' }); // untagged: kept
  });

  it('answers 401 without a key or with an unknown one, 403 for a key not allowed the policy', async () => {
    const body = { subject: personSubject, record: { id: 1, email: 'sally.thomas@acme.com', nickname: null } };
    const none = await call(body, { authorization: '' });
    const wrong = await call(body, { authorization: `Bearer ${KEY_ALL.replace('it', 'ti')}` });
    for (const res of [none, wrong]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body).toMatchObject({ type: '/problems/unauthorized', title: 'Unauthorized', status: 401 });
      expect(Object.keys(res.body).sort()).toEqual(['requestId', 'status', 'title', 'type']);
    }
    const forbidden = await call(body, { authorization: `Bearer ${KEY_STRICT}` });
    expect(forbidden.status).toBe(403);
    expect(Object.keys(forbidden.body).sort()).toEqual(['requestId', 'status', 'title', 'type']);
    const allowed = await call({ ...body, policy: 'strict' }, { authorization: `Bearer ${KEY_STRICT}` });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ policy: { name: 'strict' }, record: { email: '[REDACTED]' } });
  });

  it('answers 413 for a body above 1 MiB (and 401 for one without a key) and keeps serving', async () => {
    const huge = JSON.stringify({ subject: personSubject, record: { id: 1, email: 'sally.thomas@acme.com', nickname: { string: 'x'.repeat(2 * 1024 * 1024) } } });
    const tooLarge = await call(huge);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ type: '/problems/payload-too-large', status: 413 });
    expect((await call(huge, { authorization: '' })).status).toBe(401);
    expect((await call({ subject: personSubject, record: { id: 2, email: 'a@b.example', nickname: null } })).status).toBe(200);
  });

  it('answers 415 for a non-JSON content type and 400 for malformed JSON, without echoing it', async () => {
    expect((await call({ subject: personSubject, record: {} }, { 'content-type': 'text/plain' })).status).toBe(415);
    const malformed = await call(`{"subject":"${personSubject}","record":{"email":"sally.thomas@acme.com",}}`);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ type: '/problems/malformed-json' });
  });

  it('answers 422 for an unknown subject or schema id, and for a record that does not match the schema', async () => {
    const subject = await call({ subject: `${unique('it.http.none')}-value`, record: { id: 1 } });
    expect(subject.status).toBe(422);
    expect(subject.body).toMatchObject({ type: '/problems/unknown-schema', title: 'Unknown Schema' });
    expect((await call({ schemaId: 2_000_000_000, record: { id: 1 } })).status).toBe(422);
    const invalid = await call({ subject: personSubject, record: { id: 'sally.thomas@acme.com', email: 'sally.thomas@acme.com', nickname: 'Sally Thomas' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ type: '/problems/record-invalid' });
    expect(invalid.body['errors']).toEqual([
      { path: '$.record.id', detail: 'expected long, found a string' },
      { path: '$.record.nickname', detail: 'expected null or {"<branch>": value} with one of [null, string], found a string' },
    ]);
  });

  it('applies a new policy version pushed to Redis without a restart', async () => {
    const doc = shippedPolicyDoc();
    const rules = (doc['rules'] as Record<string, unknown>[]).map((r) => (r['name'] === 'emails' ? { name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' } : r));
    await new RedisPolicyAdmin({ client: redis, prefix }).push({ ...doc, rules }, { by: 'it', origin: 'v2' });
    await waitFor('policy v2 through the API', async () => {
      const res = await call({ subject: personSubject, record: { id: 1, email: 'sally.thomas@acme.com', nickname: null } });
      return res.status === 200 && (res.body['policy'] as { version: number }).version === 2;
    }, 10_000, 100);
    expect(answers.at(-1)?.body['record']).toMatchObject({ email: '[REDACTED]' });
  });

  it('never answered a raw value, and audited every call on the real audit topic (no values)', async () => {
    for (const a of answers) {
      for (const raw of RAW_CUSTOMER_VALUES) expect(a.text).not.toContain(raw);
      expect(a.text).not.toContain('Sally Thomas');
      expect(a.text).not.toMatch(/\bat \S+ \(|node:internal|\.[jt]s:\d+/); // no stack trace
    }
    // policy-applied events share the topic: 2 at startup (default, strict) + 1 for v2.
    const messages = await consumeAll(kafka, auditTopic, answers.length + 3, { timeoutMs: 15_000, settleMs: 300 });
    const events = messages.map((m) => JSON.parse(m.value?.toString('utf8') ?? 'null') as ServeAuditEvent);
    const http = events.filter((e): e is HttpAuditEvent => e.type === 'http-mask');
    expect(http).toHaveLength(answers.length);
    expect(events.filter((e) => e.type === 'policy-applied')).toHaveLength(3);
    expect(http.map((e) => e.id).sort()).toEqual(answers.map((a) => a.headers.get('x-request-id')).sort());
    expect(http.map((e) => e.status).sort()).toEqual(answers.map((a) => a.status).sort());
    for (const m of messages) {
      const text = m.value?.toString('utf8') ?? '';
      for (const raw of RAW_CUSTOMER_VALUES) expect(text).not.toContain(raw);
      expect(text).not.toContain(KEY_ALL);
    }
    const masked = http.filter((e) => e.outcome === 'masked');
    expect(masked.every((e) => e.fieldCount === e.fields.length && e.policy?.sha256 !== null && e.keyId === 'default')).toBe(true);
    expect(masked.find((e) => e.subject === customersSubject)).toMatchObject({
      apiKeyId: 'all', schemaId: customersId, status: 200, policy: { name: 'default', version: 1 },
      fields: expect.arrayContaining([{ path: 'after.email', action: 'pseudonymize', rule: 'emails' }]) as unknown,
    });
    expect(http.filter((e) => e.status === 401).every((e) => e.apiKeyId === null && e.outcome === 'rejected')).toBe(true);
    expect(http.find((e) => e.status === 403)).toMatchObject({ apiKeyId: 'strict-only', policy: { name: 'default' }, error: { code: 'forbidden' } });
    expect(messages.every((m) => m.key !== null)).toBe(true);
    for (const raw of RAW_CUSTOMER_VALUES) expect(log.text()).not.toContain(raw);
  });
});
