import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AUDIT_SCHEMA_VERSION } from '../audit/audit-event.js';
import { describeError } from '../errors.js';
import { listenOn } from '../observability/listen.js';
import type { Logger } from '../observability/logger.js';
import type { MaskerMetrics } from '../observability/metrics.js';
import type { ApiKeyStore } from './api-keys.js';
import type { HttpAuditEvent, HttpAuditSink } from './http-audit.js';
import { HttpMetrics } from './http-metrics.js';
import { parseMaskRequest } from './mask-request.js';
import type { CallFacts, MaskService } from './mask-service.js';
import { HttpProblem, PROBLEMS, problemBody, problemSlugOf } from './problem.js';
import { assertJsonContentType, ClientGoneError, DEFAULT_MAX_BODY_BYTES, parseJsonBody, readBody } from './request-body.js';

export interface MaskServerOptions {
  /** TCP port; 0 picks a free one (see {@link RunningMaskServer.port}). */
  readonly port: number;
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** What changes port and host, for the error when they cannot be used. Default: `masker serve`'s flags. */
  readonly setting?: string;
  readonly service: MaskService;
  readonly apiKeys: ApiKeyStore;
  readonly audit: HttpAuditSink;
  /** Process metrics registry; the HTTP metrics are added to it and served on `/metrics`. */
  readonly metrics: MaskerMetrics;
  readonly logger: Logger;
  /** Largest accepted request body. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** A request (headers and body) must arrive within this time. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

/** How `masker serve` is moved when its port cannot be used. */
export const SERVE_PORT_SETTING = 'pass --port with a free port (--port 0: any free port) or --host with another interface';

export interface RunningMaskServer {
  readonly port: number;
  readonly url: string;
  /** Stops accepting, lets calls in flight finish (at most `graceMs`, default 10 s), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** For the audit and the log: problem type and reason. */
  readonly error?: { readonly code: string; readonly message: string };
}

function problemAnswer(problem: HttpProblem, requestId: string): Answer {
  return {
    status: problem.status,
    body: problemBody(problem, requestId),
    headers: problem.headers,
    error: { code: problem.slug, message: problem.reason },
  };
}

const MASK_PATH = '/v1/mask';

/**
 * `masker serve`'s HTTP server (node:http): `POST /v1/mask`, `GET /healthz`, `/readyz`, `/metrics` and
 * `/problems/<slug>`. Every call of /v1/mask — whatever its outcome — is audited before it is answered;
 * a masked record is only sent once its audit event is written.
 */
export async function startMaskServer(options: MaskServerOptions): Promise<RunningMaskServer> {
  const { logger, metrics } = options;
  const httpMetrics = new HttpMetrics(metrics.registry);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const handleMask = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const facts: CallFacts = { subject: null, schemaId: null, policy: null, fields: [] };
    let apiKeyId: string | null = null;
    let continued = false;
    let answer: Answer;
    try {
      if (closing) throw new HttpProblem('shutting-down', { headers: { connection: 'close', 'retry-after': '1' } });
      if (req.method !== 'POST') throw new HttpProblem('method-not-allowed', { headers: { allow: 'POST' }, reason: `method ${req.method ?? '?'}` });
      const auth = options.apiKeys.authenticate(req.headers.authorization);
      // 401 says nothing about why (no key, malformed header, unknown key): the audit and the log do.
      if (!auth.ok) throw new HttpProblem('unauthorized', { headers: { 'www-authenticate': 'Bearer' }, reason: auth.reason });
      apiKeyId = auth.key.id;
      assertJsonContentType(req.headers['content-type']);
      // `Expect: 100-continue` (curl sends it for large bodies): invite the body only now, after the
      // checks that need no body, and only when it is not already known to be too large.
      if (expectsContinue(req) && !declaredTooLarge(req, maxBodyBytes)) {
        res.writeContinue();
        continued = true;
      }
      const request = parseMaskRequest(parseJsonBody(await readBody(req, maxBodyBytes)));
      answer = { status: 200, body: await options.service.mask(request, auth.key, facts), headers: {} };
    } catch (err) {
      if (err instanceof ClientGoneError) {
        // Nobody to answer; audited with nginx's 499 "client closed request".
        answer = { status: 499, body: undefined, headers: {}, error: { code: 'client-closed', message: 'client closed the connection' } };
      } else if (err instanceof HttpProblem) {
        answer = problemAnswer(err, requestId);
      } else {
        logger.error({ requestId, error: describeError(err) }, 'unexpected error while masking a request');
        answer = problemAnswer(new HttpProblem('internal', { reason: describeError(err).code }), requestId);
      }
    }

    const event = auditEvent(requestId, apiKeyId, facts, answer, req, options.service.keyId(), started);
    try {
      await options.audit.write(event);
    } catch (err) {
      logger.error({ requestId, error: describeError(err) }, 'audit event not written');
      if (answer.status === 200) {
        // Nobody may get a masked record that was not audited.
        answer = problemAnswer(new HttpProblem('audit-unavailable', { headers: { 'retry-after': '5' }, reason: 'audit write failed' }), requestId);
      }
    }
    if (answer.status === 200) for (const f of facts.fields) httpMetrics.maskedFields.inc({ action: f.action });
    const status = String(answer.status);
    httpMetrics.requests.inc({ status });
    httpMetrics.duration.observe({ status }, Number(process.hrtime.bigint() - started) / 1e9);
    logger.debug({ requestId, apiKeyId, status: answer.status, error: answer.error, fields: facts.fields.length }, 'mask call');
    if (answer.status === 499 || res.destroyed) return;
    // A client that waits for `100 Continue` and got a final answer instead may or may not send its body:
    // close the connection rather than guess where the next request starts.
    const headers = expectsContinue(req) && !continued ? { ...answer.headers, connection: 'close' } : answer.headers;
    send(res, answer.status, answer.body, requestId, headers, answer.status !== 200);
  };

  const server: Server = createServer({ requestTimeout, headersTimeout: Math.min(10_000, requestTimeout), keepAliveTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === MASK_PATH) {
      inFlight++;
      handleMask(req, res)
        .catch((err: unknown) => {
          logger.error({ error: describeError(err) }, 'mask handler failed');
          if (!res.headersSent) res.writeHead(500).end();
        })
        .finally(() => {
          inFlight--;
          if (inFlight === 0) drained?.();
        });
      return;
    }
    serveOther(req, res, path);
  });

  const serveOther = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const requestId = randomUUID();
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics' || problemSlugOf(path) !== undefined;
    if (!known) {
      send(res, 404, problemBody(new HttpProblem('not-found'), requestId), requestId, {}, true);
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, problemBody(new HttpProblem('method-not-allowed'), requestId), requestId, { allow: 'GET' }, true);
      return;
    }
    if (path === '/healthz') {
      send(res, 200, { status: 'ok' }, requestId, {}, false);
    } else if (path === '/readyz') {
      const reason = closing ? 'shutting down' : options.service.defaultPolicy() === undefined ? 'default policy not loaded' : undefined;
      send(res, reason === undefined ? 200 : 503, reason === undefined ? { status: 'ready' } : { status: 'not-ready', reason }, requestId, {}, false);
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      const slug = problemSlugOf(path);
      const entry = slug === undefined ? undefined : PROBLEMS[slug];
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${entry?.title ?? ''} (${entry?.status ?? ''})\n\n${entry?.description ?? ''}\n`);
    }
  };

  // Without this listener Node answers `100 Continue` before the handler runs; with it, handleMask decides.
  server.on('checkContinue', (req, res) => server.emit('request', req, res));

  await listenOn(server, options.port, options.host ?? '127.0.0.1', options.setting ?? SERVE_PORT_SETTING);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    port: address.port,
    url: `http://${host}:${address.port}`,
    close: async (graceMs = 10_000) => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await stopped;
    },
  };
}

function auditEvent(
  id: string, apiKeyId: string | null, facts: CallFacts, answer: Answer, req: IncomingMessage, keyId: string, started: bigint,
): HttpAuditEvent {
  const masked = answer.status === 200;
  return {
    schema: AUDIT_SCHEMA_VERSION,
    type: 'http-mask',
    id,
    time: new Date().toISOString(),
    apiKeyId,
    subject: facts.subject,
    schemaId: facts.schemaId,
    policy: facts.policy,
    keyId,
    outcome: masked ? 'masked' : 'rejected',
    status: answer.status,
    fieldCount: masked ? facts.fields.length : 0,
    fields: masked ? facts.fields : [],
    ...(answer.error === undefined ? {} : { error: answer.error }),
    client: { address: req.socket.remoteAddress ?? null },
    durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
  };
}

function expectsContinue(req: IncomingMessage): boolean {
  return (req.headers.expect ?? '').toLowerCase() === '100-continue';
}

function declaredTooLarge(req: IncomingMessage, maxBodyBytes: number): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > maxBodyBytes;
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string, headers: Readonly<Record<string, string>>, problem: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': problem ? 'application/problem+json' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
    ...headers,
  });
  res.end(text);
}
