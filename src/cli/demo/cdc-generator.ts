/**
 * A small, deterministic, Debezium-shaped CDC stream for the demo: customers and their orders, with
 * creates, updates, deletes and tombstones. Seeded, so every run shows the same story.
 */
export interface CustomerRow {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
  phone: string | null;
  birth_date: number;
  city: string;
  country: string;
  loyalty_tier: 'BRONZE' | 'SILVER' | 'GOLD';
  created_at: number;
  notes: string | null;
}

export interface OrderRow {
  id: number;
  customer_id: number;
  amount_cents: number;
  currency: string;
  status: string;
  shipping_address: string;
  contact_email: string | null;
  placed_at: number;
}

export interface CdcEvent<Row> {
  /** Key record (`{id}`), always present: tombstones keep their key. */
  readonly key: { id: number };
  /** null = tombstone. */
  readonly value: { before: Row | null; after: Row | null; op: 'c' | 'u' | 'd'; ts_ms: number; source: DebeziumSource } | null;
}

interface DebeziumSource {
  connector: string;
  db: string;
  table: string;
  lsn: number;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Katherine', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Linus', 'Margaret'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Torvalds', 'Hamilton'];
const CITIES: [string, string][] = [['London', 'GB'], ['Paris', 'FR'], ['Berlin', 'DE'], ['Madrid', 'ES'], ['Lisbon', 'PT']];
const STREETS = ['High Street', 'Rue de Rivoli', 'Unter den Linden', 'Gran Via', 'Rua Augusta'];
const TIERS = ['BRONZE', 'SILVER', 'GOLD'] as const;

/** mulberry32: tiny seeded PRNG, good enough for demo and benchmark data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateShop(options: { customers: number; ordersPerCustomer: number; seed?: number; now?: number }): {
  customers: CdcEvent<CustomerRow>[];
  orders: CdcEvent<OrderRow>[];
} {
  const rnd = prng(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const now = options.now ?? Date.UTC(2026, 10, 1);
  let lsn = 1_000_000;
  const source = (table: string): DebeziumSource => ({ connector: 'postgresql', db: 'shop', table, lsn: (lsn += 8) });
  const customers: CdcEvent<CustomerRow>[] = [];
  const orders: CdcEvent<OrderRow>[] = [];
  const rows: CustomerRow[] = [];

  for (let i = 0; i < options.customers; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const [city, country] = pick(CITIES);
    const id = 10_000 + i;
    const email = `${first}.${last}${i}@example.com`.toLowerCase();
    const row: CustomerRow = {
      id, first_name: first, last_name: last, email,
      phone: rnd() < 0.8 ? `+44 7700 9${String(Math.floor(rnd() * 100_000)).padStart(5, '0')}` : null,
      birth_date: Math.floor(-3650 + rnd() * 14_000),
      city, country, loyalty_tier: pick(TIERS),
      created_at: now - Math.floor(rnd() * 86_400_000 * 365),
      notes: rnd() < 0.5 ? `Called from ${email}, asked to update card 4111 1111 1111 1111.` : null,
    };
    rows.push(row);
    customers.push({ key: { id }, value: { before: null, after: row, op: 'c', ts_ms: row.created_at, source: source('customers') } });
    for (let o = 0; o < options.ordersPerCustomer; o++) {
      const order: OrderRow = {
        id: 500_000 + i * 100 + o, customer_id: id,
        amount_cents: Math.floor(500 + rnd() * 50_000), currency: 'EUR', status: 'PLACED',
        shipping_address: `${Math.floor(1 + rnd() * 200)} ${pick(STREETS)}, ${city}`,
        contact_email: rnd() < 0.7 ? email : null,
        placed_at: row.created_at + Math.floor(rnd() * 86_400_000 * 30),
      };
      orders.push({ key: { id: order.id }, value: { before: null, after: order, op: 'c', ts_ms: order.placed_at, source: source('orders') } });
    }
  }
  // Updates: some customers move city; some orders ship.
  for (const row of rows.filter((_, i) => i % 3 === 1)) {
    const [city, country] = pick(CITIES);
    const after = { ...row, city, country };
    customers.push({ key: { id: row.id }, value: { before: row, after, op: 'u', ts_ms: now, source: source('customers') } });
  }
  for (const event of orders.filter((_, i) => i % 4 === 0)) {
    const before = event.value?.after;
    if (before == null) continue;
    orders.push({ key: event.key, value: { before, after: { ...before, status: 'SHIPPED' }, op: 'u', ts_ms: now, source: source('orders') } });
  }
  // A delete and its tombstone.
  const gone = rows[rows.length - 1];
  if (gone !== undefined) {
    customers.push({ key: { id: gone.id }, value: { before: gone, after: null, op: 'd', ts_ms: now, source: source('customers') } });
    customers.push({ key: { id: gone.id }, value: null });
  }
  return { customers, orders };
}
