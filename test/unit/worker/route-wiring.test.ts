import { describe, expect, it } from 'vitest';
import { parseRoute } from '../../../src/config/routes.js';
import type { KeyRing } from '../../../src/masking/keys.js';
import type { Logger } from '../../../src/observability/logger.js';
import type { PolicyProvider } from '../../../src/policy/active-policy.js';
import type { SchemaLookup } from '../../../src/registry/schema-cache.js';
import { routeHandlerOptions, type RouteWiring } from '../../../src/worker/route-wiring.js';

const route = parseRoute({ apiVersion: 'masker/v1', kind: 'Route', name: 'unit', source: { topic: 'src' }, target: { topic: 'dst' }, policy: 'unit', key: 'mask' }, 'unit');
const wiring: RouteWiring = {
  lookup: {} as SchemaLookup,
  keys: {} as KeyRing,
  policies: { policyFor: () => undefined } as PolicyProvider,
  auditTopic: 'audit',
  quarantineTopic: 'quarantine',
  maxRecordBytes: 1234,
  logger: {} as Logger,
};

describe('routeHandlerOptions', () => {
  it('gives the worker (masker run) its settings without the replayed mark, and its quarantine counter', () => {
    const onQuarantined = (): void => undefined;
    const o = routeHandlerOptions(wiring, route, { onQuarantined });
    expect(o).toMatchObject({ route, auditTopic: 'audit', quarantineTopic: 'quarantine', settings: { maxRecordBytes: 1234 }, onQuarantined });
    expect(o.settings).not.toHaveProperty('replayed');
    expect(o).not.toHaveProperty('schemaGuard');
  });

  it('marks masker replay\'s audit events replayed, with the same shared wiring', () => {
    const o = routeHandlerOptions(wiring, route, { replayed: true });
    expect(o.settings).toEqual({ maxRecordBytes: 1234, replayed: true });
    expect(o.lookup).toBe(wiring.lookup);
    expect(o.policies).toBe(wiring.policies);
    expect(o).not.toHaveProperty('onQuarantined');
  });
});
