import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpAuditEvent } from '../../../src/http/http-audit.js';
import {
  activePolicy, DEFAULT_POLICY_DOC, KEY_ALL, KEY_STRICT_ONLY, personRecord, SECRET_EMAIL, SECRET_NAME, startTestServer,
} from './support.js';

type Started = Awaited<ReturnType<typeof startTestServer>>;

describe('the mask server over HTTP (in-memory registry and policies)', () => {
  let t: Started;
  beforeAll(async () => {
    t = await startTestServer({ maxBodyBytes: 4096 });
  });
  afterAll(async () => {
    await t.server.close();
  });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers; text: string }> {
    const res = await fetch(`${t.server.url}/v1/mask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_ALL}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers, text };
  }

  function lastEvent(): HttpAuditEvent {
    const event = t.audit.events.at(-1);
    if (event?.type !== 'http-mask') throw new Error('no http-mask audit event');
    return event;
  }

  it('masks a record: 200, Avro JSON encoding back, fields listed, audited without values', async () => {
    const res = await post({ subject: 'people-value', record: personRecord() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const record = res.body['record'] as Record<string, unknown>;
    expect(record['id']).toBe(7);
    expect(record['email']).toMatch(/@/);
    expect(record['email']).not.toBe(SECRET_EMAIL);
    expect(record['phone']).toEqual({ string: '[REDACTED]' }); // unions stay in JSON encoding
    expect(record['name']).toBe('[REDACTED]'); // tagged PII without a rule: onUnmatchedSensitive redact
    expect(res.body).toMatchObject({ schemaId: 1, keyId: 'k1', policy: { name: 'default', version: 1 } });
    expect(res.body['fields']).toEqual(expect.arrayContaining([
      { path: 'email', action: 'pseudonymize', rule: 'emails' },
      { path: 'phone', action: 'redact', rule: 'phones' },
    ]));
    expect(res.text).not.toContain(SECRET_EMAIL);
    expect(res.text).not.toContain(SECRET_NAME);
    const event = lastEvent();
    expect(event).toMatchObject({ apiKeyId: 'all', subject: 'people-value', schemaId: 1, outcome: 'masked', status: 200, fieldCount: 3 });
    expect(event.id).toBe(res.headers.get('x-request-id'));
    expect(JSON.stringify(event)).not.toContain(SECRET_EMAIL);
    expect(JSON.stringify(event)).not.toContain(String(record['email']));
  });

  it('answers 401 with the same problem body for a missing, malformed or unknown key, audited with the reason', async () => {
    const bodies: unknown[] = [];
    for (const authorization of [undefined, 'Basic abc', `Bearer ${KEY_ALL}x`, `Bearer  `]) {
      const res = await fetch(`${t.server.url}/v1/mask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify({ subject: 'people-value', record: personRecord() }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const { requestId: _id, ...rest } = (await res.json()) as Record<string, unknown>;
      bodies.push(rest);
    }
    expect(bodies).toEqual(Array(4).fill({ type: '/problems/unauthorized', title: 'Unauthorized', status: 401 }));
    const reasons = t.audit.events.slice(-4).map((e) => (e.type === 'http-mask' ? [e.apiKeyId, e.status, e.outcome, e.error?.message] : []));
    expect(reasons).toEqual([
      [null, 401, 'rejected', 'missing-credentials'],
      [null, 401, 'rejected', 'malformed-credentials'],
      [null, 401, 'rejected', 'unknown-key'],
      [null, 401, 'rejected', 'malformed-credentials'],
    ]);
  });

  it('answers 403 when the key may not use the policy (named or default), without saying which', async () => {
    const res = await post({ subject: 'people-value', record: personRecord() }, { authorization: `Bearer ${KEY_STRICT_ONLY}` });
    expect(res.status).toBe(403);
    const { requestId: _id, ...rest } = res.body;
    expect(rest).toEqual({ type: '/problems/forbidden', title: 'Forbidden', status: 403 });
    expect(lastEvent()).toMatchObject({ apiKeyId: 'strict-only', policy: { name: 'default' }, status: 403, error: { message: 'policy-not-allowed' } });
    const named = await post({ subject: 'people-value', record: personRecord(), policy: 'default' }, { authorization: `Bearer ${KEY_STRICT_ONLY}` });
    expect(named.status).toBe(403);
  });

  it('answers 503 policy-unavailable for an allowed, served policy with no loaded version', async () => {
    const res = await post({ subject: 'people-value', record: personRecord() }, { authorization: `Bearer ${KEY_STRICT_ONLY}` });
    expect(res.status).toBe(403);
    const strict = await post({ subject: 'people-value', record: personRecord(), policy: 'strict' }, { authorization: `Bearer ${KEY_STRICT_ONLY}` });
    expect(strict.status).toBe(503);
    expect(strict.body).toMatchObject({ type: '/problems/policy-unavailable' });
    expect(strict.headers.get('retry-after')).toBe('5');
    const unknown = await post({ subject: 'people-value', record: personRecord(), policy: 'nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ type: '/problems/unknown-policy' });
  });

  it('uses the new policy version as soon as the provider has it', async () => {
    t.policies.set('default', activePolicy({ ...DEFAULT_POLICY_DOC, rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' }] }, 2));
    try {
      const res = await post({ subject: 'people-value', record: personRecord() });
      expect(res.body).toMatchObject({ policy: { version: 2 }, record: { email: '[REDACTED]' } });
    } finally {
      t.policies.set('default', activePolicy(DEFAULT_POLICY_DOC));
    }
  });

  it('answers 405 (Allow: POST) for other methods and 404 for other paths, as problem+json', async () => {
    const get = await fetch(`${t.server.url}/v1/mask`, { headers: { authorization: `Bearer ${KEY_ALL}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toMatchObject({ type: '/problems/method-not-allowed', status: 405 });
    const missing = await fetch(`${t.server.url}/v2/mask`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 415 unless the body is application/json (utf-8)', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const res = await post({ subject: 'people-value', record: personRecord() }, { 'content-type': contentType });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ type: '/problems/unsupported-media-type', status: 415 });
    }
    expect((await post({ subject: 'people-value', record: personRecord() }, { 'content-type': 'Application/JSON; charset=UTF-8' })).status).toBe(200);
  });

  it('answers 413 above --max-body-bytes, declared or chunked, and keeps serving', async () => {
    const big = JSON.stringify({ subject: 'people-value', record: personRecord({ name: 'x'.repeat(5000) }) });
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ type: '/problems/payload-too-large', status: 413 });
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${t.server.url}/v1/mask`, {
        method: 'POST', headers: { authorization: `Bearer ${KEY_ALL}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(big.slice(i * 600, (i + 1) * 600));
      req.end();
    });
    expect(chunked).toBe(413);
    expect((await post({ subject: 'people-value', record: personRecord() })).status).toBe(200);
    expect(t.logText()).not.toContain('xxxxxxxx');
  });

  it('invites the body (100 Continue) only after auth and size checks pass', async () => {
    const body = JSON.stringify({ subject: 'people-value', record: personRecord() });
    const attempt = (key: string, length: number) => new Promise<{ continued: boolean; status: number; connection: string | undefined }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest(`${t.server.url}/v1/mask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', expect: '100-continue', 'content-length': String(length) },
      }, (res) => {
        res.resume();
        resolve({ continued, status: res.statusCode ?? 0, connection: res.headers.connection });
      });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('error', reject);
    });
    expect(await attempt(KEY_ALL, Buffer.byteLength(body))).toEqual({ continued: true, status: 200, connection: 'keep-alive' });
    expect(await attempt('wrong-key-0123456789abcdef', Buffer.byteLength(body))).toEqual({ continued: false, status: 401, connection: 'close' });
    expect(await attempt(KEY_ALL, 10_000)).toEqual({ continued: false, status: 413, connection: 'close' });
  });

  it('answers 400 for malformed JSON and for a body that is not a mask request, never echoing input', async () => {
    const malformed = await post(`{"subject":"people-value","record":{"email":"${SECRET_EMAIL}"`);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ type: '/problems/malformed-json', title: 'Malformed JSON', status: 400 });
    expect(malformed.text).not.toContain(SECRET_EMAIL);
    const shape = await post({ subject: 'people-value', schemaId: 1, record: personRecord(), envelope: SECRET_EMAIL, [SECRET_EMAIL]: 1 });
    expect(shape.status).toBe(400);
    expect(shape.body['errors']).toEqual(expect.arrayContaining([
      { path: '$.envelope', detail: 'expected one of debezium, none, auto' },
      { path: '$', detail: expect.stringContaining('unknown key(s)') as unknown },
    ]));
    expect(shape.text).not.toContain(SECRET_EMAIL);
    const both = await post({ subject: 'people-value', schemaId: 1, record: personRecord() });
    expect(both.body['errors']).toEqual([{ path: '$', detail: 'expected exactly one of "subject" and "schemaId"' }]);
    expect((await post({ subject: 'people-value' })).body['errors']).toEqual([{ path: '$.record', detail: 'required' }]);
    expect((await post([1, 2])).status).toBe(400);
  });

  it('answers 422 for an unknown subject or schema id', async () => {
    const subject = await post({ subject: 'nobody-value', record: personRecord() });
    expect(subject.status).toBe(422);
    expect(subject.body).toMatchObject({ type: '/problems/unknown-schema' });
    const id = await post({ schemaId: 99, record: personRecord() });
    expect(id.status).toBe(422);
    expect(lastEvent()).toMatchObject({ schemaId: 99, status: 422, error: { code: 'unknown-schema' } });
  });

  it('answers 422 with paths (never values) for a record that does not match the schema', async () => {
    const res = await post({ schemaId: 1, record: personRecord({ id: SECRET_EMAIL, phone: SECRET_NAME, extra_field: SECRET_EMAIL, tags: { [SECRET_EMAIL]: 5 } }) });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ type: '/problems/record-invalid', title: 'Record Does Not Match Schema', status: 422 });
    expect(res.body['errors']).toEqual([
      { path: '$.record', detail: 'unknown field(s) extra_field not in record test.http.Person' },
      { path: '$.record.id', detail: 'expected long, found a string' },
      { path: '$.record.phone', detail: 'expected null or {"<branch>": value} with one of [null, string], found a string' },
      { path: '$.record.tags{}', detail: 'expected string, found an integer' },
    ]);
    expect(res.text).not.toContain(SECRET_EMAIL);
    expect(res.text).not.toContain(SECRET_NAME);
    expect(t.logText()).not.toContain(SECRET_EMAIL);
  });

  it('withholds the masked record (503) when its audit event cannot be written', async () => {
    t.audit.fail = true;
    try {
      const res = await post({ subject: 'people-value', record: personRecord() });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ type: '/problems/audit-unavailable' });
      expect(res.text).not.toContain('record');
    } finally {
      t.audit.fail = false;
    }
  });

  it('serves /healthz, /readyz, /metrics and the problem type descriptions', async () => {
    expect(await (await fetch(`${t.server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${t.server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(metrics).toMatch(/masker_http_requests_total\{status="200"\} \d+/);
    const audited401 = t.audit.events.filter((e) => e.type === 'http-mask' && e.status === 401).length;
    expect(audited401).toBeGreaterThanOrEqual(4);
    expect(metrics).toContain(`masker_http_requests_total{status="401"} ${audited401}\n`);
    expect(metrics).toContain('masker_http_request_duration_seconds_bucket');
    const doc = await fetch(`${t.server.url}/problems/payload-too-large`);
    expect(doc.status).toBe(200);
    expect(await doc.text()).toContain('--max-body-bytes');
  });

  it('is not ready without the default policy', async () => {
    t.policies.delete('default');
    try {
      const res = await fetch(`${t.server.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'not-ready', reason: 'default policy not loaded' });
    } finally {
      t.policies.set('default', activePolicy(DEFAULT_POLICY_DOC));
    }
  });
});

describe('graceful close', () => {
  it('finishes a call in flight, answers nothing new, then resolves', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((r) => { entered = r; });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const t = await startTestServer({ beforeLookup: async () => { entered(); await gate; } });
    const call = fetch(`${t.server.url}/v1/mask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_ALL}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'people-value', record: personRecord() }),
    });
    await inside;
    const closed = t.server.close(5_000);
    let closedYet = false;
    void closed.then(() => { closedYet = true; });
    // Closing has begun once new connections are refused; the call in flight still holds it open.
    await expect(fetch(`${t.server.url}/healthz`)).rejects.toThrow(); // no new connections
    expect(closedYet).toBe(false); // waits for the call in flight (released only below)
    release();
    const res = await call;
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(SECRET_EMAIL);
    await closed;
    expect(t.audit.events).toHaveLength(1);
  });
});
