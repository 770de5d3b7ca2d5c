import { describe, expect, it } from 'vitest';
import { parseRoute } from '../../../src/config/routes.js';
import { parseKeyRing } from '../../../src/config/secrets.js';
import { MaskerError } from '../../../src/errors.js';
import { parsePolicy } from '../../../src/masking/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { ActivePolicy } from '../../../src/policy/active-policy.js';
import { parseSchema, type SchemaLookup } from '../../../src/registry/schema-cache.js';
import { writeFrame } from '../../../src/registry/wire-format.js';
import type { AuditEvent, ChunkAuditEvent, PlanAuditEvent } from '../../../src/audit/audit-event.js';
import { PLAN_HEADER, SOURCE_OFFSET_HEADER } from '../../../src/audit/audit-event.js';
import type { InboundRecord, OutboundMessage } from '../../../src/kafka/messages.js';
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

function handlerFor(auditMode: 'chunk' | 'record', onQuarantined: (n: number) => void = () => undefined, active: ActivePolicy = policy): RouteHandler {
  return new RouteHandler({
    route: parseRoute({ apiVersion: 'masker/v1', kind: 'Route', name: 'r', source: { topic: 'src' }, target: { topic: 'dst' }, policy: 'p', key: 'keep' }, 'r'),
    lookup,
    keys: parseKeyRing('route-handler-secret-0123456789', 'test'),
    policies: { policyFor: () => active },
    auditTopic: 'audit',
    quarantineTopic: 'quarantine',
    settings: { maxRecordBytes: 1024 },
    logger: createLogger('silent'),
    onQuarantined,
    auditMode,
    groupId: 'workers',
  });
}

const good = (offset: number): InboundRecord => ({ topic: 'src', partition: 0, offset: String(offset), key: null, value: writeFrame(5, schema.type.toBuffer({ email: 'a@b.org' })), headers: undefined });
const bad = (offset: number): InboundRecord => ({ topic: 'src', partition: 0, offset: String(offset), key: null, value: writeFrame(9, Buffer.from([0])), headers: undefined });
const tombstone = (offset: number): InboundRecord => ({ topic: 'src', partition: 0, offset: String(offset), key: null, value: null, headers: undefined });
const audits = (out: readonly OutboundMessage[]): AuditEvent[] => out.filter((o) => o.topic === 'audit').map((o) => JSON.parse(o.value!.toString('utf8')) as AuditEvent);

describe('RouteHandler: each output names its cluster', () => {
  it('record mode (v1): masked records and audit events go to the target cluster, quarantined raw records stay on the source', async () => {
    let quarantined = 0;
    const out = await handlerFor('record', (n) => { quarantined += n; }).handle([good(0), bad(1)]);
    expect(out.map((o) => [o.topic, o.cluster])).toEqual([['dst', 'target'], ['audit', 'target'], ['quarantine', 'source'], ['audit', 'target']]);
    expect(quarantined).toBe(1);
    expect(out[0]!.headers).toBeUndefined();
  });

  it('chunk mode (v2): one plan event and one chunk event after the records, on the target cluster', async () => {
    const out = await handlerFor('chunk').handle([good(0), bad(1)]);
    expect(out.map((o) => [o.topic, o.cluster])).toEqual([['dst', 'target'], ['quarantine', 'source'], ['audit', 'target'], ['audit', 'target']]);
    expect(audits(out).map((e) => e.type)).toEqual(['plan', 'chunk']);
  });
});

describe('RouteHandler: audit v2', () => {
  it('names each masked record\'s plan in a header, the chunk\'s offsets, outcomes, runs and exceptional records', async () => {
    const out = await handlerFor('chunk').handle([good(10), good(11), bad(12), tombstone(13), good(14)]);
    const [plan, chunk] = audits(out) as [PlanAuditEvent, ChunkAuditEvent];
    expect(plan).toMatchObject({ schema: 'masker.audit/v2', type: 'plan', route: 'r', schemaId: { source: 5, target: 50 }, keyId: 'default', policy: { name: 'p', version: 1, sha256: 'x' } });
    expect(plan.id).toBe(`plan:${plan.plan}`);
    expect(plan.fields.length).toBeGreaterThan(0);
    const targets = out.filter((o) => o.topic === 'dst');
    expect(targets).toHaveLength(4);
    for (const t of targets.filter((o) => o.value !== null)) expect(t.headers?.[PLAN_HEADER]?.toString()).toBe(plan.plan);
    expect(targets.map((t) => t.headers?.[SOURCE_OFFSET_HEADER])).toEqual(['10', '11', '13', '14']);
    expect(chunk).toMatchObject({
      id: 'src:0:10-14',
      group: 'workers',
      source: { topic: 'src', partition: 0, firstOffset: '10', lastOffset: '14' },
      target: { topic: 'dst' },
      records: 5,
      outcomes: { masked: 3, quarantined: 1, tombstone: 1 },
      // Runs end at records no plan masked: 12 (quarantined), 13 (a tombstone whose key was kept).
      plans: [{ plan: plan.plan, firstOffset: '10', lastOffset: '11', records: 2 }, { plan: plan.plan, firstOffset: '14', lastOffset: '14', records: 1 }],
    });
    expect(chunk.entries.map((e) => [e.offset, e.outcome, e.error?.code, e.newSchema])).toEqual([
      ['10', 'masked', undefined, true],
      ['12', 'quarantined', 'MASKER_SCHEMA_NOT_FOUND', undefined],
      ['13', 'tombstone', undefined, undefined],
    ]);
  });

  it('writes a plan event again until the transaction that carried it committed, then never again', async () => {
    const handler = handlerFor('chunk');
    const first = audits(await handler.handle([good(0), good(1)]));
    expect(first.map((e) => e.type)).toEqual(['plan', 'chunk']);
    // The transaction aborted: the chunk is handled again and must carry the plan event again.
    expect(audits(await handler.handle([good(0), good(1)])).map((e) => e.type)).toEqual(['plan', 'chunk']);
    handler.committed(0, '1');
    expect(audits(await handler.handle([good(2)])).map((e) => e.type)).toEqual(['chunk']);
  });

  it('gives a plan the same hash in every worker, and another hash when the policy differs', async () => {
    const hashOf = async (h: RouteHandler): Promise<string> => (audits(await h.handle([good(0)]))[0] as PlanAuditEvent).plan;
    const a = await hashOf(handlerFor('chunk'));
    expect(await hashOf(handlerFor('chunk'))).toBe(a);
    expect(await hashOf(handlerFor('chunk', undefined, { ...policy, version: 2 }))).not.toBe(a);
    expect(await hashOf(handlerFor('chunk', undefined, { ...policy, disabledRules: new Set(['emails']) }))).not.toBe(a);
  });
});
