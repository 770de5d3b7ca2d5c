import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './problem.js';

/** Default request body limit of `POST /v1/mask`: 1 MiB (`--max-body-bytes`). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The client went away before the body was complete: nobody to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection before the request body was complete');
    this.name = 'ClientGoneError';
  }
}

/**
 * Accepts `application/json` (any case, optional parameters) whose charset, when given, is UTF-8.
 * Anything else — including a missing Content-Type — is 415.
 */
export function assertJsonContentType(header: string | undefined): void {
  const [mediaType = '', ...params] = (header ?? '').split(';').map((s) => s.trim().toLowerCase());
  if (mediaType !== 'application/json') {
    throw new HttpProblem('unsupported-media-type', {
      detail: 'expected Content-Type: application/json',
      headers: { 'accept-post': 'application/json' },
      reason: header === undefined ? 'no content-type' : 'content-type is not application/json',
    });
  }
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((s) => s.trim());
    if (name === 'charset' && value.replace(/"/g, '') !== 'utf-8') {
      throw new HttpProblem('unsupported-media-type', { detail: 'expected charset utf-8', reason: 'charset is not utf-8' });
    }
  }
}

/**
 * Reads the whole body, refusing more than `maxBytes`: a declared Content-Length above the limit is
 * refused before reading anything; a chunked body is refused as soon as it passes the limit. On refusal
 * the rest of the body is read and discarded (bounded by the server's request timeout), so the client
 * can read the 413 instead of seeing its upload cut.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes, 'declared content-length above the limit'));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: { body: Buffer } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      if ('body' in outcome) {
        resolve(outcome.body);
      } else {
        req.resume(); // discard the rest
        reject(outcome.error);
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) settle({ error: tooLarge(maxBytes, 'body above the limit') });
      else chunks.push(chunk);
    };
    const onEnd = (): void => settle({ body: Buffer.concat(chunks, size) });
    const onGone = (): void => settle({ error: new ClientGoneError() });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/** Decodes UTF-8 strictly and parses JSON. The parser's message (it quotes the input) is never passed on. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch {
    throw new HttpProblem('malformed-json', { detail: 'the request body is not valid UTF-8 JSON', reason: 'body does not parse' });
  }
}

function tooLarge(maxBytes: number, reason: string): HttpProblem {
  return new HttpProblem('payload-too-large', { detail: `the request body must be at most ${maxBytes} bytes`, reason });
}
