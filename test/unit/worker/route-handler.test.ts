import { describe, expect, it } from 'vitest';
import { parseRoute } from '../../../src/config/routes.js';
import { parseKeyRing } from '../../../src/config/secrets.js';
import { MaskerError } from '../../../src/errors.js';
import { parsePolicy } from '../../../src/masking/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { ActivePolicy } from '../../../src/policy/active-policy.js';
import { parseSchema, type SchemaLookup } from '../../../src/registry/schema-cache.js';
import { writeFrame } from '../../../src/registry/wire-format.js';
import { RouteHandler } from '../../../src/worker/route-handler.js';

const schema = parseSchema(5, JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'email', type: 'string', 'confluent:tags': ['PII'] }] }));
const lookup: SchemaLookup = {
  byId: (id) => (id === 5 ? Promise.resolve(schema) : Promise.reject(new MaskerError('MASKER_SCHEMA_NOT_FOUND', `schema id ${id} not found`))),
  register: () => Promise.resolve(50),
};
const policy: ActivePolicy = {
  name: 'p', version: 1, sha256: 'x', disabledRules: new Set(),
  policy: parsePolicy({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'p', rules: [] }, 'p'),
};

describe('RouteHandler: each output names its cluster', () => {
  it('masked records and audit events go to the target cluster, quarantined raw records stay on the source', async () => {
    let quarantined = 0;
    const handler = new RouteHandler({
      route: parseRoute({ apiVersion: 'masker/v1', kind: 'Route', name: 'r', source: { topic: 'src' }, target: { topic: 'dst' }, policy: 'p', key: 'keep' }, 'r'),
      lookup,
      keys: parseKeyRing('route-handler-secret-0123456789', 'test'),
      policies: { policyFor: () => policy },
      auditTopic: 'audit',
      quarantineTopic: 'quarantine',
      settings: { maxRecordBytes: 1024 },
      logger: createLogger('silent'),
      onQuarantined: (n) => { quarantined += n; },
    });
    const good = { topic: 'src', partition: 0, offset: '0', key: null, value: writeFrame(5, schema.type.toBuffer({ email: 'a@b.org' })), headers: undefined };
    const bad = { topic: 'src', partition: 0, offset: '1', key: null, value: writeFrame(9, Buffer.from([0])), headers: undefined };
    const out = await handler.handle([good, bad]);
    expect(out.map((o) => [o.topic, o.cluster])).toEqual([['dst', 'target'], ['audit', 'target'], ['quarantine', 'source'], ['audit', 'target']]);
    expect(quarantined).toBe(1);
  });
});
