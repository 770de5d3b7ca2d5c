import type { PlanAuditEvent, RecordOutcome } from '../audit/audit-event.js';
import type { AuditedRecord, AuditIndex } from '../audit/audit-index.js';

/**
 * `masker audit`'s answers, from an AuditIndex (pure: the command reads the audit topic). Everything shown
 * comes from audit events, which never hold a record value.
 */

/** What the audit says about one source offset of one partition. */
export type PartitionOffsetAnswer =
  | {
    readonly partition: number;
    readonly status: 'found';
    readonly record: AuditedRecord;
    /** The plan hash names a plan whose `plan` event was not read (removed by retention, or another audit topic). */
    readonly planEventMissing: boolean;
    /** More than one chunk event of the record's audit run holds the offset: not exactly-once (their ids, the one shown first). */
    readonly coveredBy: readonly string[];
    /** The same offset as other audit runs tell it (replays: each `masker replay` run audits its records again). */
    readonly others: readonly AuditedRecord[];
  }
  /** A chunk's range holds the offset but the chunk says it is no record (a transaction marker, an aborted record). */
  | { readonly partition: number; readonly status: 'not-a-record'; readonly chunk: { readonly id: string; readonly time: string } }
  | { readonly partition: number; readonly status: 'not-covered' };

export interface OffsetAnswer {
  readonly kind: 'offset';
  readonly topic: string;
  readonly offset: string;
  readonly partitions: readonly PartitionOffsetAnswer[];
}

export interface PartitionRangeAnswer {
  readonly partition: number;
  /** The audit run summarized (a consumer group; see AuditedRecord.group): a range a replay re-masked has one answer per run. */
  readonly group: string;
  readonly replayed: boolean;
  /** Chunk (v2) and record (v1) events covering offsets of the range. */
  readonly events: number;
  readonly outcomes: Readonly<Record<RecordOutcome, number>>;
  /** `masked` is an upper bound (see RangeSummary.approximate). */
  readonly approximate: boolean;
  readonly plans: readonly PlanUsed[];
  readonly quarantined: readonly { readonly offset: string; readonly code: string; readonly message: string }[];
  readonly uncovered: readonly { readonly from: string; readonly to: string }[];
}

export interface PlanUsed {
  readonly plan: string;
  /** Absent when the plan event was not read. */
  readonly policy?: PlanAuditEvent['policy'];
  readonly schemaId?: PlanAuditEvent['schemaId'];
  readonly keySchemaId?: PlanAuditEvent['keySchemaId'];
  readonly keyId?: string;
}

export interface RangeAnswer {
  readonly kind: 'range';
  readonly topic: string;
  readonly from: string;
  readonly to: string;
  readonly partitions: readonly PartitionRangeAnswer[];
}

/**
 * The partitions an answer covers: those given (`--partition`, or every partition of the topic the audit
 * topic names, when the index holds only the events near the offsets asked about), else the index's.
 */
function partitionsOf(index: AuditIndex, topic: string, partitions: readonly number[] | undefined): readonly number[] {
  return partitions ?? index.partitions(topic);
}

export function answerOffset(index: AuditIndex, topic: string, offset: bigint, partitions?: readonly number[]): OffsetAnswer {
  const answers = partitionsOf(index, topic, partitions).map((p): PartitionOffsetAnswer => {
    const [record, ...others] = index.findAll(topic, p, offset);
    const chunks = index.chunksAt(topic, p, offset);
    if (record === undefined) {
      const chunk = chunks[0];
      return chunk === undefined ? { partition: p, status: 'not-covered' } : { partition: p, status: 'not-a-record', chunk: { id: chunk.id, time: chunk.time } };
    }
    return {
      partition: p,
      status: 'found',
      record,
      planEventMissing: record.planHash !== undefined && index.plan(record.planHash) === undefined,
      coveredBy: sameRun(record, others),
      others: others.filter((o) => o.group !== record.group),
    };
  });
  return { kind: 'offset', topic, offset: offset.toString(), partitions: answers };
}

/** The events of the record's own audit run that hold it: more than one breaks exactly-once. */
function sameRun(record: AuditedRecord, others: readonly AuditedRecord[]): string[] {
  const same = others.filter((o) => o.group === record.group);
  return same.length === 0 ? [] : [record, ...same].map((r) => r.from.id);
}

export function answerRange(index: AuditIndex, topic: string, from: bigint, to: bigint, partitions?: readonly number[]): RangeAnswer {
  const answers = partitionsOf(index, topic, partitions).flatMap((p): PartitionRangeAnswer[] => {
    const groups = index.groupsIn(topic, p, from, to);
    return (groups.length === 0 ? [undefined] : groups).map((group) => rangeAnswer(index, topic, p, from, to, group));
  });
  return { kind: 'range', topic, from: from.toString(), to: to.toString(), partitions: answers };
}

function rangeAnswer(index: AuditIndex, topic: string, p: number, from: bigint, to: bigint, group: string | undefined): PartitionRangeAnswer {
  const summary = index.summarize(topic, p, from, to, group);
  return {
    partition: p,
    group: group ?? '',
    replayed: summary.replayed,
    events: summary.events,
    outcomes: summary.outcomes,
    approximate: summary.approximate,
    plans: [...summary.plans].map(([plan, event]) => (event === undefined ? { plan } : {
      plan,
      policy: event.policy,
      schemaId: event.schemaId,
      ...(event.keySchemaId === undefined ? {} : { keySchemaId: event.keySchemaId }),
      keyId: event.keyId,
    })),
    quarantined: summary.quarantined.map((r) => ({ offset: r.offset, code: r.error?.code ?? 'unknown', message: r.error?.message ?? '' })),
  uncovered: summary.uncovered,
  };
}

const NO_TOPIC = 'no event of the audit topic names this source topic: is it the source of a route auditing to this topic?';

/** Exit code of an offset answer: 0 when some partition's event covers the offset, 1 when none does. */
export function offsetExitCode(answer: OffsetAnswer): number {
  return answer.partitions.some((p) => p.status !== 'not-covered') ? 0 : 1;
}

export function renderJson(answer: OffsetAnswer | RangeAnswer): string {
  return `${JSON.stringify(answer)}\n`;
}

export function renderOffsetText(answer: OffsetAnswer): string {
  const { topic, offset } = answer;
  if (answer.partitions.length === 0) return `no audit event covers ${topic}@${offset} (${NO_TOPIC})\n`;
  const lines: string[] = [];
  for (const p of answer.partitions) {
    const where = `${topic}/${p.partition}@${offset}`;
    if (p.status === 'not-covered') {
      lines.push(`no audit event covers ${where}`);
      continue;
    }
    if (p.status === 'not-a-record') {
      lines.push(`${where}: not a record — chunk ${p.chunk.id} (${p.chunk.time}) holds the offset but no record at it (a transaction marker or an aborted record)`);
      continue;
    }
    lines.push(`${where}: ${p.record.outcome}`, ...recordLines(p));
  }
  return `${lines.join('\n')}\n`;
}

function recordLines(answer: Extract<PartitionOffsetAnswer, { status: 'found' }>): string[] {
  const r = answer.record;
  const row = (label: string, text: string): string => `  ${label.padEnd(12)} ${text}`;
  const lines = [row('route', r.route)];
  if (r.planHash !== undefined) {
    lines.push(row('plan', answer.planEventMissing ? `${r.planHash} (its plan event was not read: removed by retention?)` : r.planHash));
  }
  if (r.policy !== undefined) {
    lines.push(row('policy', `${r.policy.name} version ${r.policy.version}`), row('policy sha', r.policy.sha256));
    lines.push(row('disabled', r.policy.disabledRules === undefined || r.policy.disabledRules.length === 0 ? 'no rule disabled' : r.policy.disabledRules.join(', ')));
  } else if (r.outcome !== 'quarantined' && !answer.planEventMissing) {
    lines.push(row('policy', 'none (nothing of the record was masked)'));
  }
  if (r.schemaId !== undefined) lines.push(row('value schema', schemaText(r.schemaId)));
  if (r.keySchemaId !== undefined) lines.push(row('key schema', `${r.keySchemaId.source} → ${r.keySchemaId.target}`));
  if (r.keyId !== undefined) lines.push(row('key id', r.keyId));
  if (r.target !== undefined && r.outcome !== 'quarantined') lines.push(row('target', r.target));
  if (r.fields !== undefined) lines.push(row('fields', `${r.fields.length} decision(s)${r.from.type === 'chunk' ? ' in the plan' : ''} (--json lists them)`));
  if (r.error !== undefined) lines.push(row('error', `${r.error.code}: ${r.error.message}`));
  for (const d of r.detections ?? []) lines.push(row('detection', `${d.path}: ${d.detectors.join(', ')} (${d.outcome})`));
  const flags = [...(r.newSchema === true ? ['first record of a new writer schema'] : []), ...(r.replayed === true ? ['replayed'] : [])];
  if (flags.length > 0) lines.push(row('flags', flags.join(', ')));
  lines.push(row('audited by', `${r.from.type} ${r.from.id} at ${r.from.time}`));
  if (r.group !== '') lines.push(row('group', r.group));
  if (answer.coveredBy.length > 1) {
    lines.push(row('WARNING', `${answer.coveredBy.length} events of one audit run hold this offset (${answer.coveredBy.join(', ')}): the audit should hold exactly one`));
  }
  for (const o of answer.others) {
    const policy = o.policy === undefined ? '' : `, policy ${o.policy.name} version ${o.policy.version}`;
    lines.push(row(o.replayed === true ? 'replayed' : 'also', `${o.outcome}${o.planHash === undefined ? '' : `, plan ${o.planHash}`}${policy} — ${o.from.type} ${o.from.id} at ${o.from.time}${o.group === '' ? '' : ` (group ${o.group})`}`));
  }
  return lines;
}

/** `11 → 21`; `none (no value: a tombstone)` for a key-only plan. */
function schemaText(ids: { readonly source: number | null; readonly target: number | null }): string {
  if (ids.source === null && ids.target === null) return 'none (no value: a tombstone)';
  return `${ids.source ?? 'none'} → ${ids.target ?? 'none'}`;
}

export function renderRangeText(answer: RangeAnswer): string {
  const { topic, from, to } = answer;
  if (answer.partitions.length === 0) return `no audit event covers ${topic} offsets ${from}..${to} (${NO_TOPIC})\n`;
  const lines: string[] = [];
  for (const p of answer.partitions) {
    const total = p.outcomes.masked + p.outcomes.quarantined + p.outcomes.tombstone;
    const run = p.group === '' ? '' : ` (${p.replayed ? 'replay run' : 'group'} ${p.group})`;
    lines.push(`${topic}/${p.partition} offsets ${from}..${to}${run}: ${total} record(s) audited by ${p.events} event(s)`);
    lines.push(`  outcomes     masked ${p.outcomes.masked}${p.approximate ? ' (at most)' : ''}, quarantined ${p.outcomes.quarantined}, tombstone ${p.outcomes.tombstone}`);
    for (const plan of p.plans) {
      const policy = plan.policy === undefined
        ? 'plan event not read (removed by retention?)'
        : `${plan.policy.name} version ${plan.policy.version} (sha256 ${plan.policy.sha256.slice(0, 12)}…${disabledText(plan.policy.disabledRules)}), value schema ${plan.schemaId === undefined ? 'none' : schemaText(plan.schemaId)}`;
      lines.push(`  plan         ${plan.plan}  ${policy}`);
    }
    if (p.quarantined.length === 0) lines.push('  quarantined  none');
    for (const q of p.quarantined) lines.push(`  quarantined  ${q.offset}  ${q.code}: ${q.message}`);
    for (const u of p.uncovered) {
      lines.push(`  no event     ${u.from === u.to ? u.from : `${u.from}..${u.to}`} (not masked or committed yet, past the end, removed by retention, or not records)`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function disabledText(rules: readonly string[] | undefined): string {
  return rules === undefined || rules.length === 0 ? '' : `, disabled: ${rules.join(', ')}`;
}
