import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, all named `masker_*` with units in the name. One instance per process. */
export class MaskerMetrics {
  readonly registry = new Registry();

  readonly recordsIn = new Counter({
    name: 'masker_records_in_total', help: 'Source records consumed', labelNames: ['route'] as const, registers: [this.registry],
  });
  readonly recordsOut = new Counter({
    name: 'masker_records_out_total', help: 'Masked records (incl. tombstones) committed to the target topic', labelNames: ['route'] as const, registers: [this.registry],
  });
  readonly recordsQuarantined = new Counter({
    name: 'masker_records_quarantined_total', help: 'Records sent to quarantine, by error code', labelNames: ['route', 'code'] as const, registers: [this.registry],
  });
  readonly maskedFields = new Counter({
    name: 'masker_masked_fields_total', help: 'Fields masked, by action', labelNames: ['route', 'action'] as const, registers: [this.registry],
  });
  readonly untaggedPii = new Counter({
    name: 'masker_untagged_pii_total',
    help: 'Values of fields no rule masks in which a detector found PII, by field, detector and outcome (scrubbed | alerted | quarantined)',
    labelNames: ['route', 'field', 'detector', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'masker_batch_duration_seconds', help: 'Time to mask and commit one transaction', labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });
  readonly policyVersion = new Gauge({
    name: 'masker_policy_version', help: 'Version of the policy in force, by policy name', labelNames: ['policy'] as const, registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'masker_consumer_lag_records', help: 'High watermark minus next offset, per source partition', labelNames: ['topic', 'partition'] as const, registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'masker_' });
  }
}
