import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SchemaAuditEvent } from '../../../src/audit/audit-event.js';
import { main } from '../../../src/cli/main.js';
import { registerSchemaCommand, type SchemaAuditPublisher } from '../../../src/cli/schema-command.js';
import { APPROVALS_FILE_NAME, FileSchemaApprovals } from '../../../src/policy/file-schema-approvals.js';

/** `masker schema` over the approvals file (no REDIS_URL), audit events collected instead of sent to Kafka. */
describe('masker schema pending | approve', () => {
  let dir: string;
  let store: FileSchemaApprovals;
  let out: string[];
  let err: string[];
  let audited: SchemaAuditEvent[];
  let auditOpened: number;
  let unsent: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'masker-schema-cli-'));
    store = FileSchemaApprovals.inPoliciesDir(dir);
    audited = [];
    auditOpened = 0;
    unsent = 0;
    await store.recordBaseline({ route: 'customers', subject: 'prod.customers-value', schemaId: 1, approvedAt: '2026-12-01T09:00:00.000Z', paths: ['after.email', 'after.id'] });
    await store.addPending({
      route: 'customers', subject: 'prod.customers-value', schemaId: 2, firstSeen: '2026-12-01T10:00:00.000Z',
      newPaths: ['after.secondary_email'], paths: ['after.email', 'after.id', 'after.secondary_email'],
    });
    await store.addPending({
      route: 'customers', subject: 'prod.customers-value', schemaId: 3, firstSeen: '2026-12-01T10:05:00.000Z',
      newPaths: ['after.secondary_email', 'after.tier'], paths: ['after.email', 'after.id', 'after.secondary_email', 'after.tier'],
    });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  async function masker(args: string[]): Promise<void> {
    out = [];
    err = [];
    const program = new Command('masker').exitOverride();
    const openAudit = (): Promise<SchemaAuditPublisher> => {
      auditOpened += 1;
      return Promise.resolve({ publish: (e) => void audited.push(e), close: () => Promise.resolve(unsent) });
    };
    registerSchemaCommand(program, {
      env: {}, openAudit, now: () => new Date('2026-12-01T12:00:00.000Z'),
      out: { write: (s: string) => out.push(s) }, err: { write: (s: string) => err.push(s) },
    });
    await program.parseAsync(['schema', ...args, '--policies', dir], { from: 'user' });
  }

  /** The real entry point (exit codes), with REDIS_URL unset so the approvals file is used. */
  async function exitCodeOf(args: string[]): Promise<{ code: number; stderr: string }> {
    vi.stubEnv('REDIS_URL', '');
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      return { code: await main(['schema', ...args, '--policies', dir]), stderr };
    } finally {
      spy.mockRestore();
    }
  }

  it('lists what waits: route, subject, schema id, first seen, new fields (table and JSON)', async () => {
    await masker(['pending']);
    const lines = out.join('').trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ROUTE\s+SUBJECT\s+SCHEMA ID\s+FIRST SEEN\s+NEW FIELDS$/);
    expect(lines[1]).toMatch(/^customers\s+prod\.customers-value\s+2\s+2026-12-01T10:00:00\.000Z\s+after\.secondary_email$/);
    expect(lines[2]).toMatch(/^customers\s+prod\.customers-value\s+3\s+2026-12-01T10:05:00\.000Z\s+after\.secondary_email, after\.tier$/);

    await masker(['pending', '--route', 'customers', '--json']);
    expect(JSON.parse(out.join(''))).toEqual([
      { route: 'customers', subject: 'prod.customers-value', schemaId: 2, newPaths: ['after.secondary_email'], firstSeen: '2026-12-01T10:00:00.000Z' },
      { route: 'customers', subject: 'prod.customers-value', schemaId: 3, newPaths: ['after.secondary_email', 'after.tier'], firstSeen: '2026-12-01T10:05:00.000Z' },
    ]);
  });

  it('approves a pending schema: stored with by, audited once, and what it releases is gone from pending', async () => {
    await masker(['approve', '--route', 'customers', '--schema-id', '2', '--by', 'alice']);
    expect(out.join('')).toContain('approved schema id 2 on route customers (prod.customers-value) by alice: releases after.secondary_email');
    expect(audited).toEqual([expect.objectContaining({
      schema: 'masker.audit/v1', type: 'schema-approved', route: 'customers', subject: 'prod.customers-value', schemaId: 2,
      by: 'alice', newPaths: ['after.secondary_email'], time: '2026-12-01T12:00:00.000Z',
    })]);
    expect(await store.approved('customers')).toContainEqual(expect.objectContaining({
      schemaId: 2, by: 'alice', approvedAt: '2026-12-01T12:00:00.000Z', paths: ['after.email', 'after.id', 'after.secondary_email'],
    }));
    // v3 still waits, for tier only now: v2's approval covers its secondary_email.
    await masker(['pending', '--json']);
    expect(JSON.parse(out.join(''))).toEqual([expect.objectContaining({ schemaId: 3, newPaths: ['after.tier'] })]);
    // The file is JSON a person can read, next to the policies.
    const file = JSON.parse(await readFile(join(dir, APPROVALS_FILE_NAME), 'utf8')) as { kind: string };
    expect(file.kind).toBe('SchemaApprovals');
  });

  it('says so when the schema id is already approved, without writing or auditing', async () => {
    await masker(['approve', '--route', 'customers', '--schema-id', '1']);
    expect(out.join('')).toContain('schema id 1 (prod.customers-value) is already approved on route customers, by baseline');
    expect(auditOpened).toBe(0);
  });

  it('fails with exit 1 when the audit event could not be written (the approval is stored)', async () => {
    unsent = 1;
    await expect(masker(['approve', '--route', 'customers', '--schema-id', '3', '--by', 'bob'])).rejects.toThrow(/approval is stored, but 1 schema-approved audit event/);
  });

  it('exits 2 with a clear message for an unknown route, an unknown schema id, and bad arguments', async () => {
    const unknownRoute = await exitCodeOf(['approve', '--route', 'orders', '--schema-id', '2']);
    expect(unknownRoute.code).toBe(2);
    expect(unknownRoute.stderr).toContain('masker: MASKER_INPUT: route orders: unknown (no schema recorded for it in schema approvals file');

    const unknownId = await exitCodeOf(['approve', '--route', 'customers', '--schema-id', '7']);
    expect(unknownId.code).toBe(2);
    expect(unknownId.stderr).toContain('route customers: schema id 7 is neither pending nor approved (pending: 2, 3)');

    const pendingUnknown = await exitCodeOf(['pending', '--route', 'orders']);
    expect(pendingUnknown.code).toBe(2);

    const badId = await exitCodeOf(['approve', '--route', 'customers', '--schema-id', '2x']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('--schema-id: expected a positive integer');

    const badRoute = await exitCodeOf(['approve', '--route', 'Customers!', '--schema-id', '2']);
    expect(badRoute.code).toBe(2);
    expect(badRoute.stderr).toContain('--route: expected a route name');

    const missing = await exitCodeOf(['approve', '--route', 'customers']);
    expect(missing.code).toBe(2);
    expect(await store.pending('customers')).toHaveLength(2);
  });

  it('refuses a corrupt approvals file, naming the file and the path at fault', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, APPROVALS_FILE_NAME), JSON.stringify({
      apiVersion: 'masker/v1', kind: 'SchemaApprovals',
      routes: { customers: { approved: [{ subject: 'prod.customers-value', schemaId: 1, approvedAt: 'now', by: 'x', paths: [] }], pending: [] } },
    }));
    const result = await exitCodeOf(['pending']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(dir, APPROVALS_FILE_NAME)}: invalid schema approval entry: routes.customers.approved[0].approvedAt: Invalid datetime`);
  });
});
