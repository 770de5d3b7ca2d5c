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
});
