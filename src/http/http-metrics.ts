import { Counter, Histogram, type Registry } from 'prom-client';

/** Metrics of `masker serve`, registered next to the process metrics of {@link MaskerMetrics}. */
export class HttpMetrics {
  readonly requests: Counter<'status'>;
  readonly duration: Histogram<'status'>;
  readonly maskedFields: Counter<'action'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'masker_http_requests_total', help: 'Calls of POST /v1/mask (and other methods on it), by HTTP status',
      labelNames: ['status'] as const, registers: [registry],
    });
    this.duration = new Histogram({
      name: 'masker_http_request_duration_seconds', help: 'Time from request to answer of /v1/mask, audit write included, by HTTP status',
      labelNames: ['status'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    this.maskedFields = new Counter({
      name: 'masker_http_masked_fields_total', help: 'Fields masked through the HTTP API, by action',
      labelNames: ['action'] as const, registers: [registry],
    });
  }
}
