import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SchemaAuditEvent } from '../../../src/audit/audit-event.js';
import { FileSchemaApprovals } from '../../../src/policy/file-schema-approvals.js';
import { SchemaGuard, type GuardedRoute } from '../../../src/policy/schema-guard.js';
import { schema } from '../masking/support.js';

function customer(id: number, extra: unknown[] = []): { id: number; type: ReturnType<typeof schema>['type']; json: unknown } {
  const s = schema({
    type: 'record',
    name: 'Customer',
    namespace: 'unit.guard',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
      ...extra,
    ],
  });
  return { id, type: s.type, json: s.json };
}

const v1 = customer(1);
const v2 = customer(2, [{ name: 'secondary_email', type: ['null', 'string'], default: null }]);
const v3 = customer(3, [
  { name: 'secondary_email', type: ['null', 'string'], default: null },
  { name: 'tier', type: ['null', 'string'], default: null },
]);
const scalarKey = { id: 9, ...(() => { const s = schema('string'); return { type: s.type, json: s.json }; })() };

const route: GuardedRoute = { name: 'customers', source: { topic: 'prod.customers' }, key: 'mask', envelope: 'none' };

describe('SchemaGuard (over the approvals file)', () => {
  let dir: string;
  let store: FileSchemaApprovals;
  let guard: SchemaGuard;
  let events: SchemaAuditEvent[];
  let clock: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'masker-guard-'));
    store = FileSchemaApprovals.inPoliciesDir(dir);
    events = [];
    clock = Date.parse('2026-12-01T10:00:00Z');
    guard = new SchemaGuard({ store, routes: [route], pollIntervalMs: 0, onEvent: (e) => events.push(e), now: () => new Date(clock++) });
    await guard.start();
  });

  afterEach(async () => {
    await guard.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the first schema of each subject as its baseline, audited with by: baseline', async () => {
    const g = guard.forRoute(route);
    expect(g.held('value', 1)).toBeUndefined();
    expect([...await g.resolve('value', v1, 'redact-until-approved')]).toEqual([]);
    expect([...await g.resolve('key', scalarKey, 'redact-until-approved')]).toEqual([]);
    expect(g.held('value', 1)?.size).toBe(0);
    expect((await store.approved('customers')).map((a) => [a.subject, a.schemaId, a.by])).toEqual([
      ['prod.customers-key', 9, 'baseline'],
      ['prod.customers-value', 1, 'baseline'],
    ]);
    expect(events.map((e) => [e.type, e.subject, e.schemaId, e.by])).toEqual([
      ['schema-approved', 'prod.customers-value', 1, 'baseline'],
      ['schema-approved', 'prod.customers-key', 9, 'baseline'],
    ]);
  });

  it('holds the leaves a later schema adds, records it pending once and audits schema-held with paths only', async () => {
    const g = guard.forRoute(route);
    await g.resolve('value', v1, 'redact-until-approved');
    const [a, b] = await Promise.all([g.resolve('value', v2, 'redact-until-approved'), g.resolve('value', v2, 'redact-until-approved')]);
    expect([...a]).toEqual(['secondary_email']);
    expect(b).toBe(a); // concurrent first records of one id share one resolution
    expect(g.held('value', 2)).toBe(a);
    const pending = await store.pending('customers');
    expect(pending).toEqual([expect.objectContaining({ subject: 'prod.customers-value', schemaId: 2, newPaths: ['secondary_email'], paths: ['email', 'id', 'secondary_email'] })]);
    const held = events.filter((e) => e.type === 'schema-held');
    expect(held).toEqual([expect.objectContaining({ route: 'customers', subject: 'prod.customers-value', schemaId: 2, newPaths: ['secondary_email'], newFields: 'redact-until-approved' })]);
  });

  it('releases held leaves on approval at the next refresh, and a schema approved before is never held', async () => {
    const g = guard.forRoute(route);
    await g.resolve('value', v1, 'redact-until-approved');
    await g.resolve('value', v2, 'redact-until-approved');
    expect([...await g.resolve('value', v3, 'redact-until-approved')]).toEqual(['secondary_email', 'tier']);
    let changes = 0;
    guard.onChange(() => { changes += 1; });

    const result = await store.approve('customers', 'prod.customers-value', 2, 'alice', '2026-12-01T11:00:00Z');
    expect(result.status).toBe('approved');
    expect(g.held('value', 2)?.size).toBe(1); // not before the guard re-reads
    await guard.refresh();
    expect(g.held('value', 2)?.size).toBe(0);
    expect([...g.held('value', 3) ?? []]).toEqual(['tier']); // v2's approval covers v3's secondary_email too
    expect(changes).toBe(1);
    expect(await store.pending('customers')).toEqual([expect.objectContaining({ schemaId: 3 })]);
  });

  it('another worker (a second guard on the same store) sees the baseline and the approval, and emits nothing twice', async () => {
    const other = new SchemaGuard({ store: FileSchemaApprovals.inPoliciesDir(dir), routes: [route], pollIntervalMs: 0, onEvent: (e) => events.push(e) });
    await other.start();
    try {
      await guard.forRoute(route).resolve('value', v1, 'redact-until-approved');
      await guard.forRoute(route).resolve('value', v2, 'redact-until-approved');
      const count = events.length;
      expect([...await other.forRoute(route).resolve('value', v1, 'quarantine')]).toEqual([]);
      expect([...await other.forRoute(route).resolve('value', v2, 'quarantine')]).toEqual(['secondary_email']);
      expect(events).toHaveLength(count);
    } finally {
      await other.stop();
    }
  });

  it('leaves the held set of a schema that does not fit the envelope empty (its plan fails closed instead)', async () => {
    const debezium: GuardedRoute = { ...route, name: 'cdc', envelope: 'debezium', key: 'drop' };
    const g2 = new SchemaGuard({ store, routes: [debezium], pollIntervalMs: 0 });
    await g2.start();
    try {
      expect((await g2.forRoute(debezium).resolve('value', v1, 'redact-until-approved')).size).toBe(0);
      expect(await store.approved('cdc')).toEqual([]);
    } finally {
      await g2.stop();
    }
  });
});
