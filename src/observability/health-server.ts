import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from './listen.js';
import type { MaskerMetrics } from './metrics.js';

export interface HealthServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly metrics: MaskerMetrics;
  /** Ready means: consuming, with a policy for every route. Returns the reason when not ready. */
  readonly readiness: () => { ready: true } | { ready: false; reason: string };
  /**
   * What changes the port and interface, for the error when they cannot be used (port in use, ...).
   * Default: the METRICS_PORT / METRICS_HOST environment variables of `masker run`.
   */
  readonly setting?: string;
}

/** How `masker run`'s metrics/health server is moved when its port cannot be used. */
export const METRICS_PORT_SETTING = 'set METRICS_PORT to a free port (0 turns the metrics/health server off) or METRICS_HOST to another interface';

/** `/metrics` (Prometheus text), `/healthz` (process alive), `/readyz` (200 ready / 503 with a reason). */
export async function startHealthServer(options: HealthServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const state = options.readiness();
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(state.ready ? { status: 'ready' } : { status: 'not-ready', reason: state.reason }));
    } else if (path === '/metrics') {
      options.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await listenOn(server, options.port, options.host ?? '127.0.0.1', options.setting ?? METRICS_PORT_SETTING);
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
