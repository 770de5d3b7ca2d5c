import type { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import type { AuditEvent } from '../audit/audit-event.js';
import { AuditIndex } from '../audit/audit-index.js';
import { parseAuditEvent } from '../audit/audit-parse.js';
import { loadEnv, required } from '../config/env.js';
import { MaskerError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { readTopicWindow } from '../kafka/topic-window.js';
import { createLogger } from '../observability/logger.js';
import { answerOffset, answerRange, offsetExitCode, renderJson, renderOffsetText, renderRangeText } from './audit-report.js';
import type { CliIo } from './mask-command.js';
import { processIo } from './mask-command.js';

/** `masker audit`'s options as commander gives them (text, validated by parseAuditQuery). */
export interface AuditCommandOptions {
  /** The source topic asked about. */
  readonly topic?: string;
  readonly partition?: string;
  readonly offset?: string;
  readonly from?: string;
  readonly to?: string;
  /** Default: MASKER_AUDIT_TOPIC, else `masker.audit`. */
  readonly auditTopic?: string;
  readonly json?: boolean;
}

/** A validated question: one source offset, or an inclusive offset range; of one partition or of all. */
export type AuditQuery =
  | { readonly kind: 'offset'; readonly topic: string; readonly partition?: number; readonly offset: bigint }
  | { readonly kind: 'range'; readonly topic: string; readonly partition?: number; readonly from: bigint; readonly to: bigint };

/** Injected in tests. */
export interface AuditDeps {
  readonly kafka?: Kafka;
  /** How long to wait for a batch before giving up on the end offsets. Default 10 s. */
  readonly idleMs?: number;
}

/** What reading the audit topic gave. */
export interface AuditRead {
  readonly index: AuditIndex;
  /** Partitions of each source topic some chunk or record event names (the index keeps only the events asked about). */
  readonly partitions: ReadonlyMap<string, ReadonlySet<number>>;
  readonly messages: number;
  /** Malformed messages by problem: how many, and where the first was. */
  readonly skipped: ReadonlyMap<string, { count: number; partition: number; offset: string }>;
  /** Stopped waiting for the end offsets (an open transaction held the rest back). */
  readonly idle: boolean;
}

const OFFSET = /^\d{1,19}$/;
const MAX_OFFSET = 2n ** 63n - 1n;

/** Validates the options; throws MASKER_INPUT naming the option at fault. */
export function parseAuditQuery(options: AuditCommandOptions): AuditQuery {
  const topic = options.topic;
  if (topic === undefined || topic.trim() === '') throw new MaskerError('MASKER_INPUT', '--topic: expected the source topic to ask about');
  const partition = options.partition === undefined ? undefined : parsePartition(options.partition);
  const where = { topic, ...(partition === undefined ? {} : { partition }) };
  if (options.offset !== undefined) {
    if (options.from !== undefined || options.to !== undefined) {
      throw new MaskerError('MASKER_INPUT', `--offset asks about one offset; --from/--to about a range: give one or the other, not both`);
    }
    return { kind: 'offset', ...where, offset: parseOffset(options.offset, '--offset') };
  }
  if (options.from === undefined && options.to === undefined) {
    throw new MaskerError('MASKER_INPUT', 'expected --offset X (one source offset) or --from X --to Y (an inclusive range)');
  }
  if (options.from === undefined || options.to === undefined) {
    throw new MaskerError('MASKER_INPUT', `${options.from === undefined ? '--to' : '--from'} needs ${options.from === undefined ? '--from' : '--to'}: a range is --from X --to Y, both inclusive`);
  }
  const from = parseOffset(options.from, '--from');
  const to = parseOffset(options.to, '--to');
  if (from > to) throw new MaskerError('MASKER_INPUT', `--from ${from} is after --to ${to}: the range is reversed`);
  return { kind: 'range', ...where, from, to };
}

function parseOffset(text: string, flag: string): bigint {
  if (OFFSET.test(text) && BigInt(text) <= MAX_OFFSET) return BigInt(text);
  throw new MaskerError('MASKER_INPUT', `${flag}: expected a source offset (an integer from 0), got "${text.slice(0, 30)}"`);
}

function parsePartition(text: string): number {
  if (/^\d{1,6}$/.test(text)) return Number(text);
  throw new MaskerError('MASKER_INPUT', `--partition: expected a partition number (an integer from 0), got "${text.slice(0, 30)}"`);
}

/** Whether an event may matter to `query`: plans always, chunk and record events of the topic (and range) only. */
export function concerns(query: AuditQuery, event: AuditEvent): boolean {
  if (event.type === 'plan') return true;
  if (event.type !== 'chunk' && event.type !== 'record') return false;
  if (event.source.topic !== query.topic) return false;
  if (query.partition !== undefined && event.source.partition !== query.partition) return false;
  const [first, last] = event.type === 'chunk'
    ? [BigInt(event.source.firstOffset), BigInt(event.source.lastOffset)]
    : [BigInt(event.source.offset), BigInt(event.source.offset)];
  const [from, to] = query.kind === 'offset' ? [query.offset, query.offset] : [query.from, query.to];
  return last >= from && first <= to;
}

/**
 * Reads the audit topic from the beginning to the end offsets read at the start (read committed), indexing
 * the events `keep` accepts. Messages that are not audit events are counted by problem, never shown.
 */
export async function readAuditTopic(kafka: Kafka, auditTopic: string, keep: (event: AuditEvent) => boolean, options: { idleMs?: number; cluster?: string } = {}): Promise<AuditRead> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; low: string; high: string }[];
  try {
    if (!(await admin.listTopics()).includes(auditTopic)) {
      throw new MaskerError('MASKER_INPUT', `audit topic ${auditTopic} does not exist${options.cluster === undefined ? '' : ` (${options.cluster})`}: set MASKER_AUDIT_TOPIC or --audit-topic`);
    }
    offsets = await admin.fetchTopicOffsets(auditTopic);
  } finally {
    await admin.disconnect();
  }
  const index = new AuditIndex();
  const partitions = new Map<string, Set<number>>();
  const skipped = new Map<string, { count: number; partition: number; offset: string }>();
  let messages = 0;
  const { idle } = await readTopicWindow({
    kafka,
    topic: auditTopic,
    windows: offsets.map((o) => ({ partition: o.partition, start: BigInt(o.low), end: BigInt(o.high) })),
    onMessage: (partition, message) => {
      messages += 1;
      const parsed = parseAuditEvent(message.value);
      if ('event' in parsed) {
        const { event } = parsed;
        if (event.type === 'chunk' || event.type === 'record') {
          const seen = partitions.get(event.source.topic) ?? new Set<number>();
          partitions.set(event.source.topic, seen.add(event.source.partition));
        }
        if (keep(event)) index.add(event);
        return;
      }
      // A known schema with a type this reader does not index (masker serve's `http-mask`, a later type): skipped, not malformed.
      if (parsed.otherType === true) return;
      const problem = problemKind(parsed.problem);
      const seen = skipped.get(problem);
      if (seen === undefined) skipped.set(problem, { count: 1, partition, offset: message.offset });
      else seen.count += 1;
    },
    ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
  });
  return { index, partitions, messages, skipped, idle };
}

/** A problem without what the message held: `unknown schema "…"` → `unknown schema` (the topic may be the wrong one, holding values). */
export function problemKind(problem: string): string {
  return problem.replace(/\s*["{[].*$/s, '').slice(0, 80);
}

/** Notes for stderr: malformed messages skipped, an idle stop. */
export function readNotes(auditTopic: string, read: Pick<AuditRead, 'messages' | 'skipped' | 'idle'>): string[] {
  const notes: string[] = [];
  const skippedTotal = [...read.skipped.values()].reduce((n, s) => n + s.count, 0);
  for (const [problem, s] of read.skipped) {
    notes.push(`skipped ${s.count} message(s) of ${auditTopic} that are not audit events: ${problem} (first at partition ${s.partition} offset ${s.offset})`);
  }
  if (read.messages > 0 && skippedTotal === read.messages) notes.push(`none of the ${read.messages} message(s) of ${auditTopic} is an audit event: is it the audit topic?`);
  if (read.idle) notes.push('stopped waiting for the end offsets: no message came for a while (an open transaction holds the rest back); answering from what was read');
  return notes;
}

/**
 * `masker audit`: what the audit topic says about a source offset (which plan and policy version masked it,
 * or why it was quarantined) or an offset range (outcomes, plans, quarantined offsets). Reads the audit topic
 * (TARGET_KAFKA_BROKERS when set, else KAFKA_BROKERS) from the beginning to its end offsets at the start.
 * Exit codes: 0 answered, 1 no audit event covers the offset, 2 bad usage or an unknown audit topic.
 */
export async function runAuditCommand(options: AuditCommandOptions, io: CliIo, deps: AuditDeps = {}): Promise<number> {
  const query = parseAuditQuery(options);
  const env = loadEnv(io.env);
  const auditTopic = options.auditTopic ?? env.MASKER_AUDIT_TOPIC;
  const cluster = env.TARGET_KAFKA_BROKERS === undefined ? 'KAFKA_BROKERS' : 'TARGET_KAFKA_BROKERS';
  const brokers = env.TARGET_KAFKA_BROKERS ?? required(env, 'KAFKA_BROKERS');
  const kafka = deps.kafka ?? createKafka({ brokers, clientId: 'masker-audit', logger: createLogger(env.LOG_LEVEL === 'info' ? 'error' : env.LOG_LEVEL) });
  const read = await readAuditTopic(kafka, auditTopic, (event) => concerns(query, event), {
    cluster: `${cluster}=${brokers.join(',')}`,
    ...(deps.idleMs === undefined ? {} : { idleMs: deps.idleMs }),
  });
  for (const note of readNotes(auditTopic, read)) io.stderr.write(`audit: ${note}\n`);
  const partitions = query.partition === undefined ? [...(read.partitions.get(query.topic) ?? [])].sort((a, b) => a - b) : [query.partition];
  if (query.kind === 'offset') {
    const answer = answerOffset(read.index, query.topic, query.offset, partitions);
    io.stdout.write(options.json === true ? renderJson(answer) : renderOffsetText(answer));
    return offsetExitCode(answer);
  }
  const answer = answerRange(read.index, query.topic, query.from, query.to, partitions);
  io.stdout.write(options.json === true ? renderJson(answer) : renderRangeText(answer));
  return 0;
}

export function registerAuditCommand(program: Command, io: CliIo = processIo()): void {
  program
    .command('audit')
    .description('answer from the audit topic: which plan and policy version masked a source offset, or what happened in an offset range')
    .requiredOption('--topic <topic>', 'the source topic asked about')
    .option('--offset <n>', 'one source offset: its outcome, plan, policy version, schema ids, key id, chunk')
    .option('--from <n>', 'first offset of a range (inclusive; with --to): outcomes, plans, quarantined offsets')
    .option('--to <n>', 'last offset of a range (inclusive; with --from)')
    .option('--partition <n>', 'only this source partition (default: every partition of the topic in the audit)')
    .option('--audit-topic <topic>', 'the audit topic (default: MASKER_AUDIT_TOPIC, else masker.audit)')
    .option('--json', 'one JSON object: the answer, as data')
    .action(async (opts: AuditCommandOptions) => {
      process.exitCode = await runAuditCommand(opts, io);
    });
}
