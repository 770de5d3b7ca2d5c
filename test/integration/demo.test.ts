import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo/demo-command.js';
import { joinCheck } from '../../src/cli/demo/demo-report.js';

describe('masker demo', () => {
  it('masks the seeded CDC stream, keeps joins, audits every record, and shows it', async () => {
    let text = '';
    const out = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
    const result = await runDemo({ customers: 4, out });

    expect(result.audit).toHaveLength(result.produced);
    expect(result.audit.every((e) => e['outcome'] === 'masked' || e['outcome'] === 'tombstone')).toBe(true);
    expect(result.maskedCustomers).toHaveLength(result.sourceCustomers.length);
    expect(result.maskedOrders).toHaveLength(result.sourceOrders.length);

    const joins = joinCheck(result);
    expect(joins.orders).toBeGreaterThan(0);
    expect(joins.sourceJoins).toBe(joins.orders);
    expect(joins.maskedJoins).toBe(joins.orders);

    // No production email, name or customer id survives in staging.
    const rawEmails = result.sourceCustomers.flatMap((r) => {
      const after = (r.value as { after?: { email: string } | null } | null)?.after;
      return after == null ? [] : [after.email];
    });
    const staging = JSON.stringify([result.maskedCustomers, result.maskedOrders], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const email of rawEmails) expect(staging).not.toContain(email);
    expect(text).toContain('every join survives masking');
  });

  it('shows an update, the delete and its tombstone, and dates as dates', async () => {
    let text = '';
    const out = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
    await runDemo({ customers: 4, out });
    // An update: the changed fields marked, unchanged ones the same in before and after on both sides.
    expect(text).toContain('customers: an update (op u), before → after');
    expect(text).toMatch(/\n {2}~ city {14}\S+ → \S+ +\S+ → \S+\n/);
    expect(text).toMatch(/\n {4}email {13}\S+ \(same\) +\S+ \(same\)\n/);
    // The delete and its tombstone, in production and in staging, the staging key masked the same in both.
    expect(text).toContain('customers: the delete (op d) and its tombstone');
    const staging = [...text.matchAll(/\n {2}staging {5}key (\{"id":\d+\}) +(op d|tombstone)/g)];
    expect(staging.map((m) => m[2])).toEqual(['op d', 'tombstone']);
    expect(staging[0]?.[1]).toBe(staging[1]?.[1]);
    expect(text).toMatch(/\n {2}production {2}key \{"id":\d+\} +tombstone: value null/);
    // Dates and timestamps as ISO text, not day counts or epoch milliseconds.
    expect(text).toMatch(/\n {2}\* birth_date {8}\d{4}-\d{2}-\d{2} +→ \d{4}-\d{2}-\d{2}\n/);
    expect(text).toMatch(/\n {4}created_at {8}\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z +→ /);
  });
});
