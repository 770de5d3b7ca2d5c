import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { checkJsonEncoding, decodeJsonEncoding, encodeJsonEncoding } from '../../../src/http/avro-json.js';
import { parseMaskRequest } from '../../../src/http/mask-request.js';
import { HttpProblem, PROBLEMS, problemBody } from '../../../src/http/problem.js';
import { assertJsonContentType, parseJsonBody, readBody } from '../../../src/http/request-body.js';
import { PERSON_SCHEMA, personRecord, SECRET_EMAIL } from './support.js';

function fakeRequest(chunks: readonly string[], headers: Record<string, string> = {}): IncomingMessage {
  const stream = Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as IncomingMessage;
  Object.assign(stream, { headers });
  return stream;
}

function problemOf(fn: () => unknown): HttpProblem {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpProblem) return err;
    throw err;
  }
  throw new Error('expected an HttpProblem');
}

describe('request body limits', () => {
  it('reads a body up to the limit', async () => {
    expect((await readBody(fakeRequest(['{"a":', '1}']), 7)).toString()).toBe('{"a":1}');
  });

  it('refuses a declared Content-Length above the limit without reading', async () => {
    await expect(readBody(fakeRequest(['{}'], { 'content-length': '11' }), 10)).rejects.toMatchObject({ slug: 'payload-too-large', status: 413 });
  });

  it('refuses a chunked body as soon as it passes the limit', async () => {
    await expect(readBody(fakeRequest(['12345', '67890', 'x']), 10)).rejects.toMatchObject({ slug: 'payload-too-large', detail: 'the request body must be at most 10 bytes' });
  });

  it('accepts only application/json in UTF-8', () => {
    for (const ok of ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON;charset="UTF-8"']) {
      expect(() => assertJsonContentType(ok)).not.toThrow();
    }
    for (const bad of [undefined, '', 'text/json', 'application/jsonx', 'application/json; charset=iso-8859-1', 'multipart/form-data']) {
      expect(problemOf(() => assertJsonContentType(bad))).toMatchObject({ slug: 'unsupported-media-type', status: 415 });
    }
  });

  it('refuses malformed JSON and invalid UTF-8 without quoting the input', () => {
    for (const body of [Buffer.from(`{"email":"${SECRET_EMAIL}"`), Buffer.from([0x7b, 0xff, 0x7d]), Buffer.alloc(0)]) {
      const p = problemOf(() => parseJsonBody(body));
      expect(p).toMatchObject({ slug: 'malformed-json', status: 400 });
      expect(JSON.stringify(problemBody(p, 'r1'))).not.toContain(SECRET_EMAIL);
    }
    expect(parseJsonBody(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
  });
});

describe('problem+json bodies', () => {
  it('have type, title, status and requestId, plus detail/code/errors when set', () => {
    const p = new HttpProblem('record-invalid', { detail: 'd', errors: [{ path: '$.a', detail: 'expected long, found a string' }], reason: 'internal reason' });
    expect(problemBody(p, 'req-1')).toEqual({
      type: '/problems/record-invalid', title: 'Record Does Not Match Schema', status: 422, detail: 'd', requestId: 'req-1',
      errors: [{ path: '$.a', detail: 'expected long, found a string' }],
    });
    expect(JSON.stringify(problemBody(p, 'req-1'))).not.toContain('internal reason');
    expect(problemBody(new HttpProblem('unauthorized', { reason: 'unknown-key' }), 'r')).toEqual({ type: '/problems/unauthorized', title: 'Unauthorized', status: 401, requestId: 'r' });
  });

  it('use a 4xx status for every client mistake', () => {
    const client = ['unauthorized', 'forbidden', 'not-found', 'method-not-allowed', 'unsupported-media-type', 'payload-too-large', 'malformed-json',
      'invalid-request', 'unknown-schema', 'unknown-policy', 'record-invalid', 'not-maskable'] as const;
    for (const slug of client) expect(PROBLEMS[slug].status).toBeGreaterThanOrEqual(400), expect(PROBLEMS[slug].status).toBeLessThan(500);
  });
});

describe('mask request validation', () => {
  it('accepts subject or schemaId, with optional policy and envelope (default auto)', () => {
    expect(parseMaskRequest({ subject: 's-value', record: { a: 1 } })).toEqual({ subject: 's-value', record: { a: 1 }, policy: undefined, envelope: 'auto' });
    expect(parseMaskRequest({ schemaId: 42, record: null, policy: 'strict', envelope: 'debezium' }))
      .toEqual({ schemaId: 42, record: null, policy: 'strict', envelope: 'debezium' });
  });

  it('reports every problem with its JSON path and no value', () => {
    const p = problemOf(() => parseMaskRequest({ schemaId: SECRET_EMAIL, record: {}, policy: SECRET_EMAIL, extra: 1 }));
    expect(p.errors).toEqual(expect.arrayContaining([
      { path: '$.schemaId', detail: 'expected number, found string' },
      { path: '$.policy', detail: 'expected a policy name: 1-63 characters [a-z0-9-]' },
      { path: '$', detail: 'unknown key(s) extra; allowed: subject, schemaId, record, policy, envelope' },
    ]));
    expect(JSON.stringify(p.errors)).not.toContain(SECRET_EMAIL);
    expect(problemOf(() => parseMaskRequest({ schemaId: 1.5, record: {} })).errors).toEqual([{ path: '$.schemaId', detail: 'expected integer, found float' }]);
    expect(problemOf(() => parseMaskRequest({ record: {} })).errors).toEqual([{ path: '$', detail: 'expected exactly one of "subject" and "schemaId"' }]);
    expect(problemOf(() => parseMaskRequest('x')).errors).toEqual([{ path: '$', detail: 'expected object, found string' }]);
  });
});

describe('Avro JSON encoding check', () => {
  const type = avro.Type.forSchema(PERSON_SCHEMA as avro.Schema);

  it('accepts a value in Avro JSON encoding and round-trips it', () => {
    const json = personRecord({ tags: { k: 'v' } });
    expect(checkJsonEncoding(type, json)).toEqual([]);
    expect(encodeJsonEncoding(type, decodeJsonEncoding(type, json))).toEqual(json);
    expect(checkJsonEncoding(type, { id: 1, name: 'n', email: 'e' })).toEqual([]); // fields with defaults may be left out
  });

  it('names paths and expected types, never values, for every kind of mismatch', () => {
    const problems = checkJsonEncoding(type, { id: 1.5, email: [SECRET_EMAIL], phone: { int: 5 }, tags: { [SECRET_EMAIL]: null }, [`${SECRET_EMAIL}`]: 1, other_field: 2 });
    expect(problems).toEqual([
      { path: '$', detail: 'unknown field(s) other_field not in record test.http.Person' },
      { path: '$.id', detail: 'expected long, found a number' },
      { path: '$.name', detail: 'required (string)' },
      { path: '$.email', detail: 'expected string, found an array' },
      { path: '$.phone', detail: 'expected null or {"<branch>": value} with one of [null, string], found an object' },
      { path: '$.tags{}', detail: 'expected string, found null' },
    ]);
    expect(JSON.stringify(problems)).not.toContain(SECRET_EMAIL);
    expect(checkJsonEncoding(type, [SECRET_EMAIL])).toEqual([{ path: '$', detail: 'expected an object (record test.http.Person), found an array' }]);
  });

  it('checks bytes and fixed as strings of code points, enums by symbol, arrays by index', () => {
    const t = avro.Type.forSchema({
      type: 'record', name: 'B', fields: [
        { name: 'b', type: 'bytes' }, { name: 'f', type: { type: 'fixed', name: 'F', size: 2 } },
        { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } }, { name: 'xs', type: { type: 'array', items: 'int' } },
      ],
    });
    expect(checkJsonEncoding(t, { b: '\u00ff\u0000', f: 'ab', e: 'A', xs: [1, 2] })).toEqual([]);
    expect(checkJsonEncoding(t, { b: 5, f: 'abc', e: 'C', xs: [1, 'x'] })).toEqual([
      { path: '$.b', detail: 'expected bytes, found an integer' },
      { path: '$.f', detail: 'expected fixed(2), found a string' },
      { path: '$.e', detail: 'expected enum E [A, B], found a string' },
      { path: '$.xs[1]', detail: 'expected int, found a string' },
    ]);
  });

  it('survives a record nested deeper than the stack (recursive schema)', () => {
    const t = avro.Type.forSchema({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] });
    let json: unknown = { next: null };
    for (let i = 0; i < 100_000; i++) json = { next: { Node: json } };
    expect(checkJsonEncoding(t, json)).toEqual([{ path: '$', detail: 'the record is nested too deeply' }]);
  });
});
