import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A registered version in the fake registry. */
export interface FakeVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly metadata?: unknown;
  readonly deleted?: boolean;
}

export interface FakeRegistryOptions {
  /** Schema text by id. */
  readonly schemas: Readonly<Record<number, string>>;
  readonly versions?: readonly FakeVersion[];
  /** Metadata the by-id answer carries (Confluent 7.4+ does; AxonOps does not). */
  readonly byIdMetadata?: Readonly<Record<number, unknown>>;
  /** false: `GET /schemas/ids/{id}/versions` answers 404 (registries without the endpoint). Default true. */
  readonly versionsEndpoint?: boolean;
}

export interface FakeRegistry {
  readonly url: string;
  /** Every request, as `METHOD path?query`. */
  readonly requests: string[];
  /** Bodies of `POST /subjects/{s}/versions`, by subject. */
  readonly registered: { subject: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

/**
 * A Confluent-API registry over real HTTP on 127.0.0.1, holding what a test gives it. Like AxonOps, it
 * stores metadata per subject-version and (unless told) leaves it out of `GET /schemas/ids/{id}`.
 */
export async function startFakeRegistry(options: FakeRegistryOptions): Promise<FakeRegistry> {
  const requests: string[] = [];
  const registered: { subject: string; body: Record<string, unknown> }[] = [];
  const versions = options.versions ?? [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const url = new URL(req.url ?? '/', 'http://fake');
      const deletedToo = url.searchParams.get('deleted') === 'true';
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(body));
      };
      const notFound = (code: number): void => send(404, { error_code: code, message: 'not found' });
      let m: RegExpMatchArray | null;
      if (req.method === 'GET' && (m = url.pathname.match(/^\/schemas\/ids\/(\d+)$/)) !== null) {
        const id = Number(m[1]);
        const schema = options.schemas[id];
        if (schema === undefined) return notFound(40403);
        const metadata = options.byIdMetadata?.[id];
        return send(200, { schema, schemaType: 'AVRO', ...(metadata === undefined ? {} : { metadata }) });
      }
      if (req.method === 'GET' && (m = url.pathname.match(/^\/schemas\/ids\/(\d+)\/versions$/)) !== null) {
        const id = Number(m[1]);
        if (options.versionsEndpoint === false || options.schemas[id] === undefined) return notFound(40403);
        return send(200, versions.filter((v) => v.id === id && (deletedToo || v.deleted !== true)).map((v) => ({ subject: v.subject, version: v.version })));
      }
      if (req.method === 'GET' && (m = url.pathname.match(/^\/subjects\/([^/]+)\/versions\/(\d+)$/)) !== null) {
        const subject = decodeURIComponent(m[1] ?? '');
        const v = versions.find((x) => x.subject === subject && x.version === Number(m?.[2]));
        if (v === undefined || (v.deleted === true && !deletedToo)) return notFound(40402);
        return send(200, { subject, version: v.version, id: v.id, schemaType: 'AVRO', schema: options.schemas[v.id], ...(v.metadata === undefined ? {} : { metadata: v.metadata }) });
      }
      if (req.method === 'POST' && (m = url.pathname.match(/^\/subjects\/([^/]+)\/versions$/)) !== null) {
        registered.push({ subject: decodeURIComponent(m[1] ?? ''), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        return send(200, { id: 100 + registered.length });
      }
      return send(404, { error_code: 404, message: 'no such route' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    registered,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err === undefined ? resolve() : reject(err)))),
  };
}
