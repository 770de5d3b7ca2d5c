import type { Type } from 'avsc';
import { z } from 'zod';
import { MaskerError } from '../errors.js';
import { discoverFields, formatPath, type Envelope } from '../masking/index.js';

/**
 * The schema-change guard's records (DESIGN.md "Safety net"): per route and subject (`<source topic>-value`,
 * `<source topic>-key`), which writer schema ids are approved (their leaves may pass to the policy as usual)
 * and which wait for `masker schema approve` (their new leaves are held per the policy's `newFields`).
 * Stored with the policies: Redis ({@link RedisSchemaApprovals}) or a file next to the policy files
 * ({@link FileSchemaApprovals}). Entries hold field paths, never values.
 */

/** `by` of the approval a worker records for the first writer schema it meets on a route and subject. */
export const BASELINE_APPROVER = 'baseline';

/** Which of a route's subjects: the record value, or the Avro key (routes with `key: mask`). */
export type SubjectPart = 'value' | 'key';

/** The source subject a route's records of `part` are written with. */
export function sourceSubject(route: { readonly source: { readonly topic: string } }, part: SubjectPart): string {
  return `${route.source.topic}-${part}`;
}

export interface ApprovedSchema {
  readonly route: string;
  readonly subject: string;
  readonly schemaId: number;
  /** ISO 8601. */
  readonly approvedAt: string;
  /** Who approved it (`--by`), or `baseline` for the first schema a route met. */
  readonly by: string;
  /** Every leaf path of the schema (display paths, as in plan decisions). */
  readonly paths: readonly string[];
}

export interface PendingSchema {
  readonly route: string;
  readonly subject: string;
  readonly schemaId: number;
  /** Leaves of this schema no approved schema of the subject had when it was first met (never empty). */
  readonly newPaths: readonly string[];
  /** Every leaf path of the schema: what an approval adds to the approved set. */
  readonly paths: readonly string[];
  /** ISO 8601: when a worker first met it. */
  readonly firstSeen: string;
}

/** What {@link SchemaApprovalStore.addPending} did. */
export type PendingResult = 'added' | 'exists' | 'approved';

/** What {@link SchemaApprovalStore.approve} did. */
export type ApproveResult =
  | { readonly status: 'approved'; readonly approved: ApprovedSchema; readonly pending: PendingSchema }
  | { readonly status: 'already-approved'; readonly approved: ApprovedSchema }
  | { readonly status: 'unknown' };

/** A change notice: a hint to re-read the route (stores without notices are polled). */
export interface ApprovalChange {
  readonly route: string;
  readonly subject: string;
  readonly schemaId: number;
  readonly change: 'approved' | 'pending';
}

export interface ApprovalSubscription {
  close(): Promise<void>;
}

export interface ApprovalSubscribeHandlers {
  readonly onChange: (change: ApprovalChange) => void;
  /** The subscription (re)connected: notices may have been missed, catch up. */
  readonly onReconnect: () => void;
}

/**
 * Where approvals live. Implementations: {@link RedisSchemaApprovals} and {@link FileSchemaApprovals}; one
 * contract suite (test/integration/policy/schema-approvals.contract.test.ts) runs against both. Every write is
 * atomic (a Lua script; a locked rename). Reads validate every entry and fail with MASKER_CONFIG naming the
 * key or file and the path at fault; an unreachable Redis fails with MASKER_REDIS_UNAVAILABLE (retry).
 */
export interface SchemaApprovalStore {
  /** Where it points, for messages (no credentials). */
  readonly description: string;
  /** Routes with at least one approved or pending entry, sorted. */
  routes(): Promise<string[]>;
  /** Approved schemas of a route (all subjects), by subject then schema id. */
  approved(route: string): Promise<ApprovedSchema[]>;
  /** Schemas of a route waiting for approval, by subject then schema id. */
  pending(route: string): Promise<PendingSchema[]>;
  /**
   * Records `entry` as approved by `baseline` if, and only if, its subject has no approved schema yet
   * (atomic: of two workers meeting a subject's first schemas at once, one wins). True when recorded.
   */
  recordBaseline(entry: Omit<ApprovedSchema, 'by'>): Promise<boolean>;
  /** Records a held schema, keeping the first `firstSeen`; `approved` when it was approved meanwhile. */
  addPending(entry: PendingSchema): Promise<PendingResult>;
  /** Moves a pending schema to approved (atomic, announced). */
  approve(route: string, subject: string, schemaId: number, by: string, approvedAt: string): Promise<ApproveResult>;
  /** Change notices, when the store can push them (Redis pub/sub). Absent: poll only. */
  subscribe?(handlers: ApprovalSubscribeHandlers): Promise<ApprovalSubscription>;
  /** Releases what the store owns. Idempotent. */
  close(): Promise<void>;
}

// --- validation of stored entries (Redis hash values, the approvals file) ---

const routeName = z.string().regex(/^[a-z0-9-]+$/, 'expected a route name [a-z0-9-]+');
const subjectName = z.string().regex(/^[A-Za-z0-9._-]{1,249}-(value|key)$/, 'expected <topic>-value or <topic>-key');
const schemaIdNumber = z.number().int().positive().max(2 ** 31 - 1);
const isoTime = z.string().datetime({ offset: true });
const pathList = z.array(z.string().min(1).max(1000)).max(100_000);

export const approvedEntrySchema = z.object({
  subject: subjectName,
  schemaId: schemaIdNumber,
  approvedAt: isoTime,
  by: z.string().min(1).max(200),
  paths: pathList,
}).strict();

export const pendingEntrySchema = z.object({
  subject: subjectName,
  schemaId: schemaIdNumber,
  newPaths: pathList.min(1),
  paths: pathList,
  firstSeen: isoTime,
}).strict();

export type ApprovedEntry = z.infer<typeof approvedEntrySchema>;
export type PendingEntry = z.infer<typeof pendingEntrySchema>;

export { routeName as routeNameSchema, subjectName as subjectNameSchema };

/** Parses stored data with `schema`, or throws MASKER_CONFIG naming `where` and every path at fault. */
export function parseStored<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, data: unknown, where: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${unknownKeys(i)}${i.message}`).join('; ');
  throw new MaskerError('MASKER_CONFIG', `${where}: invalid schema approval entry: ${problems}`);
}

function unknownKeys(issue: z.ZodIssue): string {
  return issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: ` : '';
}

/** Parses JSON text stored at `where`, or throws MASKER_CONFIG. */
export function parseStoredJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MaskerError('MASKER_CONFIG', `${where}: expected JSON`);
  }
}

/** The field name of an entry in a route's approved/pending maps: `<subject>:<schema id>` (topics have no `:`). */
export function entryField(subject: string, schemaId: number): string {
  return `${subject}:${schemaId}`;
}

export function approvedEntryOf(a: Omit<ApprovedSchema, 'route'>): ApprovedEntry {
  return { subject: a.subject, schemaId: a.schemaId, approvedAt: a.approvedAt, by: a.by, paths: [...a.paths] };
}

export function pendingEntryOf(p: Omit<PendingSchema, 'route'>): PendingEntry {
  return { subject: p.subject, schemaId: p.schemaId, newPaths: [...p.newPaths], paths: [...p.paths], firstSeen: p.firstSeen };
}

/** Checks that a stored entry sits under the field its subject and id name. */
export function assertEntryField(field: string, entry: { subject: string; schemaId: number }, where: string): void {
  if (field !== entryField(entry.subject, entry.schemaId)) {
    throw new MaskerError('MASKER_CONFIG', `${where}: invalid schema approval entry: stored under "${field.slice(0, 300)}" but names ${entryField(entry.subject, entry.schemaId)}`);
  }
}

export function bySubjectAndId<T extends { subject: string; schemaId: number }>(a: T, b: T): number {
  return a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.schemaId - b.schemaId;
}

/** Validates what a caller asks a store to write (a bug must not store garbage a reader would refuse). */
export function checkInput<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
  throw new MaskerError('MASKER_INPUT', `${what}: ${problems}`);
}

export function assertRoute(route: string): void {
  checkInput(routeName, route, 'route name');
}

// --- the pure part: which leaves are new ---

/**
 * The leaf paths of a writer schema, as plan decisions and `heldPaths` name them (`after.secondary_email`,
 * `extra{}`, `phones[]`, `$` for a scalar key), sorted and distinct. Throws MASKER_PLAN when the schema does
 * not fit the envelope (its records fail closed on the plan anyway).
 */
export function schemaLeafPaths(type: Type, schemaJson: unknown, envelope: Envelope): string[] {
  return [...new Set(discoverFields(type, { schemaJson, envelope }).map((f) => f.path))].sort();
}

/** `leaves(writer) − ∪ paths(approved)`, sorted: the leaves of a writer schema no approved schema had. */
export function newLeafPaths(writerLeaves: Iterable<string>, approved: Iterable<{ readonly paths: readonly string[] }>): string[] {
  const known = new Set<string>();
  for (const a of approved) for (const p of a.paths) known.add(p);
  return [...new Set([...writerLeaves].filter((p) => !known.has(p)))].sort();
}
