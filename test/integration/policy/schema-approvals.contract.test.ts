import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMaskerError } from '../../../src/errors.js';
import { FileSchemaApprovals } from '../../../src/policy/file-schema-approvals.js';
import { closeRedis } from '../../../src/policy/redis-client.js';
import { RedisSchemaApprovals } from '../../../src/policy/redis-schema-approvals.js';
import type { ApprovalChange, PendingSchema, SchemaApprovalStore } from '../../../src/policy/schema-approvals.js';
import { waitFor } from '../support/cli-worker.js';
import { deleteKeys, testClient, uniquePrefix } from './support.js';

/** One store under test, with the ways this suite reaches around it. */
interface Fixture {
  readonly store: SchemaApprovalStore;
  /** A second handle on the same storage (another worker, or the CLI). */
  other(): SchemaApprovalStore;
  /** Stores an approved entry under `route` that cannot be read. */
  storeCorrupt(route: string): Promise<void>;
  cleanup(): Promise<void>;
}

const implementations: [string, () => Promise<Fixture>][] = [
  ['FileSchemaApprovals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'masker-approvals-'));
    const store = FileSchemaApprovals.inPoliciesDir(dir);
    return {
      store,
      other: () => FileSchemaApprovals.inPoliciesDir(dir),
      storeCorrupt: (route) => writeFile(store.path, JSON.stringify({
        apiVersion: 'masker/v1', kind: 'SchemaApprovals',
        routes: { [route]: { approved: [{ subject: 'a.topic-value', schemaId: 1, approvedAt: '2026-12-01T00:00:00Z', by: 'x', paths: 'all' }], pending: [] } },
      })),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }],
  ['RedisSchemaApprovals', async () => {
    const prefix = uniquePrefix();
    const client: Redis = testClient();
    const others: RedisSchemaApprovals[] = [];
    return {
      store: new RedisSchemaApprovals({ client, prefix }),
      other: () => {
        const o = new RedisSchemaApprovals({ client: client.duplicate(), prefix, ownsClient: true });
        others.push(o);
        return o;
      },
      storeCorrupt: async (route) => {
        await client.hset(`${prefix}:schemas:${route}:approved`, 'a.topic-value:1', '{"subject":"a.topic-value","schemaId":1}');
      },
      cleanup: async () => {
        await Promise.all(others.map((o) => o.close()));
        await deleteKeys(client, prefix);
        await closeRedis(client);
      },
    };
  }],
];

const SUBJECT = 'prod.customers-value';
const AT = '2026-12-01T10:00:00.000Z';

function pendingOf(schemaId: number, newPaths: string[], firstSeen = AT): PendingSchema {
  return { route: 'customers', subject: SUBJECT, schemaId, newPaths, paths: ['email', 'id', ...newPaths], firstSeen };
}

describe.each(implementations)('SchemaApprovalStore contract: %s', (_name, create) => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await create();
  });
  afterEach(async () => {
    await fx.store.close();
    await fx.cleanup();
  });

  it('is empty at first: no routes, nothing approved or pending', async () => {
    expect(await fx.store.routes()).toEqual([]);
    expect(await fx.store.approved('customers')).toEqual([]);
    expect(await fx.store.pending('customers')).toEqual([]);
  });

  it('records a baseline only for a subject with no approved schema, with by: baseline', async () => {
    expect(await fx.store.recordBaseline({ route: 'customers', subject: SUBJECT, schemaId: 1, approvedAt: AT, paths: ['email', 'id'] })).toBe(true);
    expect(await fx.other().recordBaseline({ route: 'customers', subject: SUBJECT, schemaId: 2, approvedAt: AT, paths: ['x'] })).toBe(false);
    expect(await fx.store.recordBaseline({ route: 'customers', subject: 'prod.customers-key', schemaId: 5, approvedAt: AT, paths: ['$'] })).toBe(true);
    expect(await fx.store.recordBaseline({ route: 'orders', subject: SUBJECT, schemaId: 1, approvedAt: AT, paths: [] })).toBe(true);
    expect(await fx.store.approved('customers')).toEqual([
      { route: 'customers', subject: 'prod.customers-key', schemaId: 5, approvedAt: AT, by: 'baseline', paths: ['$'] },
      { route: 'customers', subject: SUBJECT, schemaId: 1, approvedAt: AT, by: 'baseline', paths: ['email', 'id'] },
    ]);
    expect(await fx.store.routes()).toEqual(['customers', 'orders']);
  });

  it('of concurrent baselines for one subject, exactly one wins', async () => {
    const results = await Promise.all([1, 2, 3, 4].map((id) => fx.other().recordBaseline({ route: 'customers', subject: SUBJECT, schemaId: id, approvedAt: AT, paths: [`p${id}`] })));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await fx.store.approved('customers')).toHaveLength(1);
  });

  it('adds a pending schema once, keeping the first firstSeen, and never one already approved', async () => {
    await fx.store.recordBaseline({ route: 'customers', subject: SUBJECT, schemaId: 1, approvedAt: AT, paths: ['email', 'id'] });
    expect(await fx.store.addPending(pendingOf(2, ['secondary_email']))).toBe('added');
    expect(await fx.other().addPending(pendingOf(2, ['secondary_email'], '2026-12-02T00:00:00.000Z'))).toBe('exists');
    expect(await fx.store.addPending(pendingOf(1, ['id']))).toBe('approved');
    expect(await fx.store.pending('customers')).toEqual([pendingOf(2, ['secondary_email'])]);
  });

  it('approves a pending schema: moved to approved with its paths, by and time; pending no more', async () => {
    await fx.store.addPending(pendingOf(3, ['tier']));
    await fx.store.addPending(pendingOf(2, ['secondary_email']));
    const result = await fx.other().approve('customers', SUBJECT, 2, 'alice', '2026-12-01T11:00:00.000Z');
    expect(result).toEqual({
      status: 'approved',
      approved: { route: 'customers', subject: SUBJECT, schemaId: 2, approvedAt: '2026-12-01T11:00:00.000Z', by: 'alice', paths: ['email', 'id', 'secondary_email'] },
      pending: pendingOf(2, ['secondary_email']),
    });
    expect((await fx.store.approved('customers')).map((a) => a.schemaId)).toEqual([2]);
    expect((await fx.store.pending('customers')).map((p) => p.schemaId)).toEqual([3]);
    expect(await fx.store.addPending(pendingOf(2, ['secondary_email']))).toBe('approved');
  });

  it('answers already-approved and unknown without writing', async () => {
    await fx.store.recordBaseline({ route: 'customers', subject: SUBJECT, schemaId: 1, approvedAt: AT, paths: ['id'] });
    expect(await fx.store.approve('customers', SUBJECT, 1, 'bob', AT)).toEqual({
      status: 'already-approved', approved: { route: 'customers', subject: SUBJECT, schemaId: 1, approvedAt: AT, by: 'baseline', paths: ['id'] },
    });
    expect(await fx.store.approve('customers', SUBJECT, 9, 'bob', AT)).toEqual({ status: 'unknown' });
    expect(await fx.store.approve('customers', 'prod.customers-key', 1, 'bob', AT)).toEqual({ status: 'unknown' });
  });

  it('of two concurrent approvals of one schema, one approves and the other finds it approved', async () => {
    await fx.store.addPending(pendingOf(2, ['secondary_email']));
    const results = await Promise.all([fx.store.approve('customers', SUBJECT, 2, 'a', AT), fx.other().approve('customers', SUBJECT, 2, 'b', AT)]);
    expect(results.map((r) => r.status).sort()).toEqual(['already-approved', 'approved']);
    expect(await fx.store.approved('customers')).toHaveLength(1);
  });

  it('refuses to write what a reader would refuse, and bad route names', async () => {
    const refused = async (p: Promise<unknown>): Promise<string | false> => p.then(() => false, (e: unknown) => isMaskerError(e) && e.code);
    expect(await refused(fx.store.addPending({ ...pendingOf(2, []) }))).toBe('MASKER_INPUT');
    expect(await refused(fx.store.recordBaseline({ route: 'customers', subject: 'no-suffix', schemaId: 1, approvedAt: AT, paths: [] }))).toBe('MASKER_INPUT');
    expect(await refused(fx.store.approved('Bad:route'))).toBe('MASKER_INPUT');
    expect(await fx.store.routes()).toEqual([]);
  });

  it('refuses to read a corrupt entry with MASKER_CONFIG naming where and the path at fault', async () => {
    await fx.storeCorrupt('customers');
    const err: unknown = await fx.store.approved('customers').then(() => undefined, (e: unknown) => e);
    expect(isMaskerError(err) && err.code).toBe('MASKER_CONFIG');
    expect((err as Error).message).toMatch(/invalid schema approval entry: .*(paths|approvedAt)/);
  });

  it('announces every change where it has notices (a hint to re-read)', async (ctx) => {
    if (fx.store.subscribe === undefined) ctx.skip();
    const changes: ApprovalChange[] = [];
    const sub = await fx.store.subscribe!({ onChange: (c) => changes.push(c), onReconnect: () => undefined });
    try {
      const writer = fx.other();
      await writer.recordBaseline({ route: 'customers', subject: SUBJECT, schemaId: 1, approvedAt: AT, paths: ['id'] });
      await writer.addPending(pendingOf(2, ['secondary_email']));
      await writer.approve('customers', SUBJECT, 2, 'alice', AT);
      await waitFor('three change notices', () => Promise.resolve(changes.length >= 3), 10_000, 20);
      expect(changes).toEqual([
        { route: 'customers', subject: SUBJECT, schemaId: 1, change: 'approved' },
        { route: 'customers', subject: SUBJECT, schemaId: 2, change: 'pending' },
        { route: 'customers', subject: SUBJECT, schemaId: 2, change: 'approved' },
      ]);
    } finally {
      await sub.close();
    }
  });

  it('can be closed twice', async () => {
    await fx.store.close();
    await expect(fx.store.close()).resolves.toBeUndefined();
  });
});
