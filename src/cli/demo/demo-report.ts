import type { AuditEvent, RecordOutcome } from '../../audit/audit-event.js';
import type { AuditedRecord } from '../../audit/audit-index.js';

/** What the demo read back; rendered as text for a person, returned as data for the demo's test. */
export interface DemoResult {
  readonly sourceCustomers: readonly DecodedRecord[];
  readonly maskedCustomers: readonly DecodedRecord[];
  readonly sourceOrders: readonly DecodedRecord[];
  readonly maskedOrders: readonly DecodedRecord[];
  /** One per audited source record, as the audit tells it (v2 chunk events record by record, or v1 record events). */
  readonly audit: readonly AuditedRecord[];
  /** The audit topic's events as written: plan and chunk events (v2, default), or record events (MASKER_AUDIT=record). */
  readonly auditEvents: readonly AuditEvent[];
  readonly auditTopic: string;
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
  const customers = result.sourceCustomers.map((s, i) => ({ source: s, masked: result.maskedCustomers[i] }));
  const opOf = (r: DecodedRecord | undefined): string | undefined => (r?.value as { op?: string } | null | undefined)?.op;

  lines.push(rule, 'customers: creates (op c), production (left) → staging (right); * = masked', rule);
  for (const { source, masked } of customers.filter((c) => opOf(c.source) === 'c').slice(0, samples)) {
    lines.push(...sideBySide(after(source) ?? {}, (masked === undefined ? undefined : after(masked)) ?? {}), '');
  }

  const update = customers.find((c) => opOf(c.source) === 'u');
  if (update !== undefined) {
    lines.push(rule, 'customers: an update (op u), before → after; ~ = changed by the update', rule);
    lines.push(...updateRows(update.source, update.masked), '');
    lines.push('  Unchanged fields mask to the same value in before and after: a consumer diffing the two sees only the real change.', '');
  }

  const deleted = customers.findIndex((c) => opOf(c.source) === 'd');
  if (deleted >= 0) {
    lines.push(rule, 'customers: the delete (op d) and its tombstone (null value)', rule);
    for (const [label, side] of [['production', 'source'], ['staging', 'masked']] as const) {
      for (const entry of customers.slice(deleted, deleted + 2)) {
        const record = entry[side];
        if (record === undefined) continue;
        const what = record.value === null
          ? 'tombstone: value null, so compaction removes the key'
          : `op d, before ${brief(before(record))}, after null`;
        lines.push(`  ${label.padEnd(10)}  key ${show(record.key).padEnd(26)}  ${what}`);
      }
    }
    lines.push('  The tombstone passes through with its key masked like the row\'s id: compaction in staging deletes the same row.', '');
  }

  lines.push(rule, 'orders: production → staging', rule);
  for (const [i, source] of result.sourceOrders.slice(0, samples).entries()) {
    const masked = result.maskedOrders[i];
    lines.push(...sideBySide(after(source) ?? {}, (masked === undefined ? undefined : after(masked)) ?? {}), '');
  }
  const tombstones = result.maskedCustomers.filter((r) => r.value === null).length;
  lines.push(...auditLines(result, rule));
  lines.push(`tombstones passed through with masked keys: ${tombstones}`);
  const joins = joinCheck(result);
  lines.push(rule, 'joins after masking', rule);
  lines.push(`orders.customer_id → customers.id: ${joins.sourceJoins}/${joins.orders} orders join in production, ${joins.maskedJoins}/${joins.orders} in staging`);
  lines.push(joins.maskedJoins === joins.sourceJoins
    ? 'customer ids are keyed pseudonyms with one domain in both topics, so every join survives masking.'
    : 'WARNING: some joins did not survive masking — check that both rules use the same domain.');
  return `${lines.join('\n')}\n`;
}

function before(record: DecodedRecord): Row | undefined {
  const value = record.value as { before?: Row | null } | null;
  return value?.before ?? undefined;
}

/** `{first_name, last_name, email, …}` of a row, for one line. */
function brief(row: Row | undefined): string {
  if (row === undefined) return 'null';
  const shown = ['first_name', 'last_name', 'email'].filter((f) => f in row).map((f) => `${f}: ${show(row[f])}`);
  return `{${shown.join(', ')}, …}`;
}

/** One line per field: production before → after, staging before → after; `~` where the update changed it. */
function updateRows(source: DecodedRecord, masked: DecodedRecord | undefined): string[] {
  const width = 40;
  const [pb, pa] = [before(source) ?? {}, after(source) ?? {}];
  const [mb, ma] = masked === undefined ? [{}, {}] : [before(masked) ?? {}, after(masked) ?? {}];
  const cell = (b: unknown, a: unknown): string => {
    const [x, y] = [show(b), show(a)];
    // A long value is cut, never the "(same)" that says the update left it alone.
    return x === y ? `${clip(y, width - ' (same)'.length)} (same)` : clip(`${x} → ${y}`, width);
  };
  const header = `    ${'field'.padEnd(17)} ${'production'.padEnd(width)}   staging`;
  return [header, ...Object.keys(pa).map((field) => {
    const mark = show(pb[field]) === show(pa[field]) ? ' ' : '~';
    return `  ${mark} ${field.padEnd(17)} ${cell(pb[field], pa[field]).padEnd(width)}   ${cell(mb[field], ma[field])}`;
  })];
}

/** `text`, or its first `width - 1` characters and an ellipsis. */
function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
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

/**
 * The audit trail: an example of each kind of event written, and the outcomes it accounts for — from the
 * chunk events' counts (audit v2: one per transaction) or one per record event (v1).
 */
function auditLines(result: DemoResult, rule: string): string[] {
  const events = result.auditEvents;
  const byType = new Map<string, number>();
  for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  const outcomes: Record<RecordOutcome, number> = { masked: 0, quarantined: 0, tombstone: 0 };
  let accounted = 0;
  for (const e of events) {
    if (e.type === 'chunk') {
      for (const outcome of ['masked', 'quarantined', 'tombstone'] as const) outcomes[outcome] += e.outcomes[outcome];
      accounted += e.records;
    } else if (e.type === 'record') {
      outcomes[e.outcome] += 1;
      accounted += 1;
    }
  }
  const plan = events.find((e) => e.type === 'plan');
  const chunk = events.find((e) => e.type === 'chunk');
  const lines = [rule, `audit events on ${result.auditTopic} (no values): ${[...byType].map(([type, n]) => `${n} ${type}`).join(', ')}`, rule];
  if (plan !== undefined && chunk !== undefined) {
    lines.push('a plan event: what masked the records (policy version, schema ids, key id, every field decision), written once per plan:');
    lines.push(JSON.stringify(plan), '');
    lines.push('a chunk event: one per transaction, the offsets it covers, counts per outcome, the plan of each run of offsets:');
    lines.push(JSON.stringify(chunk));
  } else {
    lines.push('record events (MASKER_AUDIT=record: one per source record; two shown):');
    for (const event of events.filter((e) => e.type === 'record').slice(0, 2)) lines.push(JSON.stringify(event));
  }
  const shown = Object.entries(outcomes).filter(([, n]) => n > 0).map(([k, v]) => `${k}=${v}`).join(', ');
  lines.push('', `audit outcomes: ${shown} (records produced: ${result.produced}, accounted for by the audit: ${accounted})`);
  const first = result.audit[0];
  if (first !== undefined) {
    lines.push(`ask the audit about a record: masker audit --audit-topic ${result.auditTopic} --topic ${first.topic} --offset ${first.offset}`);
  }
  return lines;
}
