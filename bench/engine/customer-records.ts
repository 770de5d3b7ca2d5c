/**
 * Deterministic Debezium customer records for the engine benchmark (no Math.random: runs are comparable).
 * Every record has a distinct customer: distinct names, emails, phones, SSNs, addresses, notes with PII.
 */

import { prng } from '../../src/cli/demo/cdc-generator.js';

export { prng };

const FIRST = ['Ada', 'Bela', 'Chidi', 'Dana', 'Emil', 'Farah', 'Goran', 'Hana', 'Ivo', 'Jun', 'Kemal', 'Lina', 'Milo', 'Nora', 'Otto', 'Pia'];
const LAST = ['Okoro', 'Lindgren', 'Moreno', 'Tanaka', 'Novak', 'Haddad', 'Schulz', 'Rossi', 'Kowalczyk', 'Dubois', 'Silva', 'Berg'];
const STREETS = ['Mission Street', 'Elm Road', 'Harbor Way', 'Oak Avenue', 'Station Lane', 'Maple Court'];
const CITIES: [string, string][] = [['San Francisco', '94105'], ['Oakland', '94607'], ['Berkeley', '94704'], ['San Jose', '95113']];

function digits(rand: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(Math.floor(rand() * 10));
  return out;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

export type Workload = 'cdc-update' | 'distinct-rows';

/** One customer row (the Debezium `Value` record) for customer `i`. */
export function customerRow(i: number, rand: () => number): Record<string, unknown> {
  const first = pick(rand, FIRST);
  const last = pick(rand, LAST);
  const [city, zip] = pick(rand, CITIES);
  const email = `${first.toLowerCase()}.${last.toLowerCase()}${i}@corp-${i % 97}.example`;
  return {
    id: 100_000 + i,
    name: `${first} ${last} ${i}`,
    email,
    phone: `+1 (415) ${digits(rand, 3)}-${digits(rand, 4)}`,
    ssn: `${String(100 + (i % 500))}-${digits(rand, 2).replace('00', '12')}-${String(1000 + (i % 8999))}`,
    birth_date: 3000 + Math.floor(rand() * 12_000),
    notes: `Customer called on 2024-03-${String(1 + (i % 28)).padStart(2, '0')} from ${email}, asked to update card 4111 1111 1111 1111 and call back at 415-555-${digits(rand, 4)}.`,
    address: { street: `${1 + (i % 999)} ${pick(rand, STREETS)}`, city, postal_code: zip, country: 'US' },
    bank_account: `DE89 3704 0044 0532 ${digits(rand, 4)} 00`,
    last_login_ip: `192.168.${i % 250}.${1 + (i % 253)}`,
    status: 'ACTIVE',
    tier: pick(rand, ['bronze', 'silver', 'gold']),
    created_at: 1_600_000_000_000 + i * 1000,
    updated_at: 1_700_000_000_000_000 + i * 1000,
    loyalty_points: Math.floor(rand() * 10_000),
    credit_limit: Buffer.from([0x01, 0x86, 0xa0]),
    balance: Math.round(rand() * 1_000_000) / 100,
    marketing_opt_in: rand() < 0.5,
    preferred_language: 'en',
    country_code: 'US',
    referral_code: `REF${i}`,
    account_manager_id: 7,
    labels: ['newsletter'],
    attributes: { segment: 'b2c' },
    external_ref: `3f2b6c1e-9a7d-4c3b-8e2f-${String(i).padStart(12, '0')}`,
    row_version: 1 + (i % 5),
    deleted: false,
  };
}

/**
 * A Debezium update envelope for customer `i`. `cdc-update`: `after` is `before` with a changed note,
 * timestamp and version (what an UPDATE looks like). `distinct-rows`: before and after are two different
 * customers (worst case: nothing is shared between the rows).
 */
export function customerEnvelope(i: number, workload: Workload, rand: () => number): Record<string, unknown> {
  const before = customerRow(i, rand);
  const after = workload === 'cdc-update'
    ? { ...before, notes: `${String(before['notes'])} Follow-up done.`, updated_at: Number(before['updated_at']) + 5_000_000, row_version: Number(before['row_version']) + 1 }
    : { ...customerRow(i + 1_000_000, rand), id: before['id'] };
  return {
    before,
    after,
    source: { version: '2.5.0.Final', connector: 'postgresql', name: 'dbserver1', ts_ms: 1_700_000_000_000 + i, snapshot: 'false', db: 'inventory', sequence: null, schema: 'public', table: 'customers', txId: 1000 + i, lsn: 33_000_000 + i, xmin: null },
    op: 'u',
    ts_ms: 1_700_000_000_500 + i,
    transaction: null,
  };
}
