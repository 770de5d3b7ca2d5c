import type { Redis } from 'ioredis';
import { closeRedis, closeSubscriptions, createRedisClient, describeRedisUrl, redisUnavailable, subscribeChannel, type RedisClientOptions } from './redis-client.js';
import { DEFAULT_PREFIX } from './redis-keys.js';
import {
  approvedEntryOf, approvedEntrySchema, assertEntryField, BASELINE_APPROVER, assertRoute, bySubjectAndId, checkInput, entryField,
  parseStored, parseStoredJson, pendingEntryOf, pendingEntrySchema, subjectNameSchema,
  type ApprovalChange, type ApprovalSubscribeHandlers, type ApprovalSubscription, type ApprovedSchema,
  type ApproveResult, type PendingResult, type PendingSchema, type SchemaApprovalStore,
} from './schema-approvals.js';

export interface RedisSchemaApprovalsOptions {
  readonly client: Redis;
  /** Key prefix. Default `masker`. */
  readonly prefix?: string;
  /** Whether close() closes `client`. Default false. */
  readonly ownsClient?: boolean;
  /** Where the client points, for messages (no credentials). Default `Redis`. */
  readonly description?: string;
}

/**
 * {@link SchemaApprovalStore} in Redis, next to the policies:
 * - `<prefix>:schemas:<route>:approved` hash: `<subject>:<schema id>` → JSON {subject, schemaId, approvedAt, by, paths}
 * - `<prefix>:schemas:<route>:pending` hash: `<subject>:<schema id>` → JSON {subject, schemaId, newPaths, paths, firstSeen}
 * - channel `<prefix>:schema-updates`: JSON {route, subject, schemaId, change: approved | pending} on every change.
 * Every write is one Lua script (check, write, publish), so concurrent workers and a CLI never interleave.
 */
export class RedisSchemaApprovals implements SchemaApprovalStore {
  readonly description: string;
  readonly prefix: string;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly subscriptions = new Set<Redis>();

  constructor(options: RedisSchemaApprovalsOptions) {
    this.client = options.client;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.ownsClient = options.ownsClient ?? false;
    this.description = `${options.description ?? 'Redis'} (prefix ${this.prefix})`;
  }

  static fromUrl(url: string, options: { prefix?: string } & RedisClientOptions = {}): RedisSchemaApprovals {
    const { prefix, ...clientOptions } = options;
    return new RedisSchemaApprovals({
      client: createRedisClient(url, clientOptions),
      ownsClient: true,
      description: describeRedisUrl(url),
      ...(prefix === undefined ? {} : { prefix }),
    });
  }

  /** Hash of a route's approved schemas. */
  approvedKey(route: string): string {
    assertRoute(route);
    return `${this.prefix}:schemas:${route}:approved`;
  }

  /** Hash of a route's schemas waiting for approval. */
  pendingKey(route: string): string {
    assertRoute(route);
    return `${this.prefix}:schemas:${route}:pending`;
  }

  /** Pub/sub channel of change notices. */
  get channel(): string {
    return `${this.prefix}:schema-updates`;
  }

  async routes(): Promise<string[]> {
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}:schemas:*`;
    const head = `${this.prefix}:schemas:`;
    const found = new Set<string>();
    let cursor = '0';
    try {
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
        cursor = next;
        for (const key of keys) {
          const m = /^([a-z0-9-]+):(approved|pending)$/.exec(key.slice(head.length));
          if (key.startsWith(head) && m?.[1] !== undefined) found.add(m[1]);
        }
      } while (cursor !== '0');
    } catch (err) {
      throw redisUnavailable(err, `SCAN ${pattern}`);
    }
    return [...found].sort();
  }

  async approved(route: string): Promise<ApprovedSchema[]> {
    const key = this.approvedKey(route);
    const hash = await this.hgetall(key);
    return Object.entries(hash).map(([field, text]) => {
      const where = `${key} field ${field.slice(0, 300)}`;
      const entry = parseStored(approvedEntrySchema, parseStoredJson(text, where), where);
      assertEntryField(field, entry, where);
      return { route, ...entry };
    }).sort(bySubjectAndId);
  }

  async pending(route: string): Promise<PendingSchema[]> {
    const key = this.pendingKey(route);
    const hash = await this.hgetall(key);
    return Object.entries(hash).map(([field, text]) => {
      const where = `${key} field ${field.slice(0, 300)}`;
      const entry = parseStored(pendingEntrySchema, parseStoredJson(text, where), where);
      assertEntryField(field, entry, where);
      return { route, ...entry };
    }).sort(bySubjectAndId);
  }

  async recordBaseline(entry: Omit<ApprovedSchema, 'by'>): Promise<boolean> {
    const value = checkInput(approvedEntrySchema, approvedEntryOf({ ...entry, by: BASELINE_APPROVER }), 'baseline approval');
    const reply = await this.eval('baseline', BASELINE_SCRIPT, [this.approvedKey(entry.route)], [
      entryField(value.subject, value.schemaId), JSON.stringify(value), `${value.subject}:`,
      this.channel, this.notice(entry.route, value.subject, value.schemaId, 'approved'),
    ]);
    return reply === 1;
  }

  async addPending(entry: PendingSchema): Promise<PendingResult> {
    const value = checkInput(pendingEntrySchema, pendingEntryOf(entry), 'pending schema');
    const reply = await this.eval('pending', PENDING_SCRIPT, [this.approvedKey(entry.route), this.pendingKey(entry.route)], [
      entryField(value.subject, value.schemaId), JSON.stringify(value),
      this.channel, this.notice(entry.route, value.subject, value.schemaId, 'pending'),
    ]);
    return reply === 1 ? 'added' : reply === 2 ? 'approved' : 'exists';
  }

  async approve(route: string, subject: string, schemaId: number, by: string, approvedAt: string): Promise<ApproveResult> {
    checkInput(subjectNameSchema, subject, 'subject');
    const field = entryField(subject, schemaId);
    // Compare-and-set against the pending entry read here: the approved entry is built from what was read.
    for (let attempt = 0; attempt < 5; attempt++) {
      const pendingText = await this.hget(this.pendingKey(route), field);
      if (pendingText === null) {
        const already = (await this.approved(route)).find((a) => a.subject === subject && a.schemaId === schemaId);
        return already === undefined ? { status: 'unknown' } : { status: 'already-approved', approved: already };
      }
      const where = `${this.pendingKey(route)} field ${field}`;
      const pendingEntry = parseStored(pendingEntrySchema, parseStoredJson(pendingText, where), where);
      assertEntryField(field, pendingEntry, where);
      const approved = checkInput(approvedEntrySchema, { subject, schemaId, approvedAt, by, paths: pendingEntry.paths }, 'approval');
      const reply = await this.eval('approve', APPROVE_SCRIPT, [this.approvedKey(route), this.pendingKey(route)], [
        field, pendingText, JSON.stringify(approved), this.channel, this.notice(route, subject, schemaId, 'approved'),
      ]);
      if (reply === 1) return { status: 'approved', approved: { route, ...approved }, pending: { route, ...pendingEntry } };
    }
    throw redisUnavailable(new Error('the pending entry kept changing'), `approve ${field}`);
  }

  subscribe(handlers: ApprovalSubscribeHandlers): Promise<ApprovalSubscription> {
    return subscribeChannel(this.client, this.channel, this.subscriptions, {
      onMessage: (message) => {
        const change = parseChange(message);
        if (change !== undefined) handlers.onChange(change);
      },
      onReconnect: handlers.onReconnect,
    });
  }

  async close(): Promise<void> {
    await closeSubscriptions(this.subscriptions);
    if (this.ownsClient) await closeRedis(this.client);
  }

  private notice(route: string, subject: string, schemaId: number, change: ApprovalChange['change']): string {
    return JSON.stringify({ route, subject, schemaId, change } satisfies ApprovalChange);
  }

  private async hgetall(key: string): Promise<Record<string, string>> {
    try {
      return await this.client.hgetall(key);
    } catch (err) {
      throw redisUnavailable(err, `HGETALL ${key}`);
    }
  }

  private async hget(key: string, field: string): Promise<string | null> {
    try {
      return await this.client.hget(key, field);
    } catch (err) {
      throw redisUnavailable(err, `HGET ${key}`);
    }
  }

  private async eval(what: string, script: string, keys: readonly string[], args: readonly string[]): Promise<number> {
    try {
      return Number(await this.client.eval(script, keys.length, ...keys, ...args));
    } catch (err) {
      throw redisUnavailable(err, `${what} script`);
    }
  }
}

/** A change notice, or undefined for anything else on the channel. */
export function parseChange(message: string): ApprovalChange | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message) as unknown;
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { route, subject, schemaId, change } = parsed as Record<string, unknown>;
  if (typeof route !== 'string' || typeof subject !== 'string' || typeof schemaId !== 'number') return undefined;
  if (change !== 'approved' && change !== 'pending') return undefined;
  return { route, subject, schemaId, change };
}

/**
 * Approve the first schema of a subject, unless the subject has one.
 * KEYS[1] approved hash. ARGV: field, entry JSON, subject prefix (`<subject>:`), channel, notice.
 * Returns 1 when recorded, 0 when the subject already had an approved schema.
 */
const BASELINE_SCRIPT = `
local fields = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(fields) do
  if string.sub(f, 1, #ARGV[3]) == ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

/**
 * Record a held schema, unless it is approved or already pending (the first firstSeen stays).
 * KEYS[1] approved hash, KEYS[2] pending hash. ARGV: field, entry JSON, channel, notice.
 * Returns 1 added, 0 already pending, 2 approved.
 */
const PENDING_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 2 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;

/**
 * Move a pending schema to approved if its pending entry is still the one the caller read.
 * KEYS[1] approved hash, KEYS[2] pending hash. ARGV: field, pending JSON read, approved JSON, channel, notice.
 * Returns 1 when moved, 0 when the pending entry changed or went.
 */
const APPROVE_SCRIPT = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;
