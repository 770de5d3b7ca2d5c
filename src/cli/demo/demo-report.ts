/** What the demo read back; rendered as text for a person, returned as data for the demo's test. */
export interface DemoResult {
  readonly sourceCustomers: readonly DecodedRecord[];
  readonly maskedCustomers: readonly DecodedRecord[];
  readonly sourceOrders: readonly DecodedRecord[];
  readonly maskedOrders: readonly DecodedRecord[];
  readonly audit: readonly Record<string, unknown>[];
  readonly produced: number;
}

export interface DecodedRecord {
  readonly key: unknown;
  readonly value: unknown;
}

export interface JoinCheck {
  /** Orders whose customer_id matches a customer id, in production. */
  readonly sourceJoins: number;
  /** The same, in staging (masked ids on both sides). */
  readonly maskedJoins: number;
  readonly orders: number;
}

type Row = Record<string, unknown>;

function after(record: DecodedRecord): Row | undefined {
  const value = record.value as { after?: Row | null } | null;
  return value?.after ?? undefined;
}

/** Counts order create events whose customer_id finds a customer created in the same topic set. */
export function checkJoins(customers: readonly DecodedRecord[], orders: readonly DecodedRecord[]): number {
  const ids = new Set(customers.map(after).filter((r): r is Row => r !== undefined).map((r) => String(r['id'])));
  return orders.map(after).filter((r): r is Row => r !== undefined && ids.has(String(r['customer_id']))).length;
}

export function joinCheck(result: DemoResult): JoinCheck {
  return {
    sourceJoins: checkJoins(result.sourceCustomers, result.sourceOrders),
    maskedJoins: checkJoins(result.maskedCustomers, result.maskedOrders),
    orders: result.sourceOrders.map(after).filter((r) => r !== undefined).length,
  };
}

export function renderDemo(result: DemoResult, samples = 2): string {
  const lines: string[] = [''];
  const rule = '─'.repeat(100);
  lines.push(rule, 'customers: production (left) → staging (right), change events with op = c', rule);
  const pairs = result.sourceCustomers.map((s, i) => [s, result.maskedCustomers[i]] as const)
    .filter(([s]) => (s.value as { op?: string } | null)?.op === 'c')
    .slice(0, samples);
  for (const [source, masked] of pairs) lines.push(...sideBySide(after(source) ?? {}, (masked === undefined ? undefined : after(masked)) ?? {}), '');
  lines.push(rule, 'orders: production → staging', rule);
  for (const [i, source] of result.sourceOrders.slice(0, samples).entries()) {
    const masked = result.maskedOrders[i];
    lines.push(...sideBySide(after(source) ?? {}, (masked === undefined ? undefined : after(masked)) ?? {}), '');
  }
  const tombstones = result.maskedCustomers.filter((r) => r.value === null).length;
  const outcomes = countBy(result.audit.map((e) => String(e['outcome'] ?? e['type'])));
  lines.push(rule, 'audit events (one per source record, no values; two shown)', rule);
  for (const event of result.audit.slice(0, 2)) lines.push(JSON.stringify(event));
  lines.push('', `audit outcomes: ${Object.entries(outcomes).map(([k, v]) => `${k}=${v}`).join(', ')} (records produced: ${result.produced})`);
  lines.push(`tombstones passed through with masked keys: ${tombstones}`);
  const joins = joinCheck(result);
  lines.push(rule, 'joins after masking', rule);
  lines.push(`orders.customer_id → customers.id: ${joins.sourceJoins}/${joins.orders} orders join in production, ${joins.maskedJoins}/${joins.orders} in staging`);
  lines.push(joins.maskedJoins === joins.sourceJoins
    ? 'customer ids are keyed pseudonyms with one domain in both topics, so every join survives masking.'
    : 'WARNING: some joins did not survive masking — check that both rules use the same domain.');
  return `${lines.join('\n')}\n`;
}

function sideBySide(left: Row, right: Row): string[] {
  const width = 42;
  return Object.keys(left).map((field) => {
    const a = show(left[field]);
    const b = show(right[field]);
    const mark = a === b ? ' ' : '*';
    return `  ${mark} ${field.padEnd(17)} ${a.slice(0, width).padEnd(width)} → ${b.slice(0, width)}`;
  });
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  return JSON.stringify(value);
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
