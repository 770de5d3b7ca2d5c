import type { Redis } from 'ioredis';
import { MaskerError } from '../errors.js';
import { closeRedis, closeSubscriptions, createRedisClient, describeRedisUrl, redisUnavailable, subscribeChannel, type RedisClientOptions } from './redis-client.js';
import { RedisKeys } from './redis-keys.js';
import type {
  PolicySource, PolicySubscription, PolicyUpdate, RouteRef, StoredPolicy, SubscribeHandlers, ToggleState,
} from './policy-source.js';

export interface RedisPolicySourceOptions {
  /** Connection used for reads. Closed by {@link RedisPolicySource.close} only when `ownsClient`. */
  readonly client: Redis;
  /** Key prefix. Default `masker`. */
  readonly prefix?: string;
  /** Whether close() closes `client`. Default false. */
  readonly ownsClient?: boolean;
  /** For messages: where the client points (no credentials). Default `Redis`. */
  readonly description?: string;
}

/** {@link PolicySource} over the Redis layout of DESIGN.md (read side; {@link RedisPolicyAdmin} writes). */
export class RedisPolicySource implements PolicySource {
  readonly description: string;
  readonly keys: RedisKeys;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly subscriptions = new Set<Redis>();

  constructor(options: RedisPolicySourceOptions) {
    this.client = options.client;
    this.keys = new RedisKeys(options.prefix);
    this.ownsClient = options.ownsClient ?? false;
    this.description = `${options.description ?? 'Redis'} (prefix ${this.keys.prefix})`;
  }

  /** A source with its own connection to `url` (closed by close()). */
  static fromUrl(url: string, options: { prefix?: string } & RedisClientOptions = {}): RedisPolicySource {
    const { prefix, ...clientOptions } = options;
    return new RedisPolicySource({
      client: createRedisClient(url, clientOptions),
      ownsClient: true,
      description: describeRedisUrl(url),
      ...(prefix === undefined ? {} : { prefix }),
    });
  }

  async get(name: string): Promise<StoredPolicy | undefined> {
    const key = this.keys.policy(name);
    let hash: Record<string, string>;
    try {
      hash = await this.client.hgetall(key);
    } catch (err) {
      throw redisUnavailable(err, `HGETALL ${key}`);
    }
    if (Object.keys(hash).length === 0) return undefined;
    return storedPolicyFrom(name, hash, key);
  }

  /** Earlier versions, newest first. Entries that cannot be read fail the call (MASKER_POLICY_INVALID). */
  async history(name: string): Promise<StoredPolicy[]> {
    const key = this.keys.history(name);
    let entries: string[];
    try {
      entries = await this.client.lrange(key, 0, -1);
    } catch (err) {
      throw redisUnavailable(err, `LRANGE ${key}`);
    }
    return entries.map((entry, i) => {
      const parsed = parseJson(entry);
      if (parsed === undefined || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new MaskerError('MASKER_POLICY_INVALID', `${key}[${i}]: expected a JSON object`);
      }
      return storedPolicyFrom(name, stringFields(parsed as Record<string, unknown>), `${key}[${i}]`);
    });
  }

  async names(): Promise<string[]> {
    const found = new Set<string>();
    let cursor = '0';
    try {
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', this.keys.policyPattern, 'COUNT', 200);
        cursor = next;
        for (const key of keys) {
          const name = this.keys.policyNameOf(key);
          if (name !== undefined) found.add(name);
        }
      } while (cursor !== '0');
    } catch (err) {
      throw redisUnavailable(err, `SCAN ${this.keys.policyPattern}`);
    }
    return [...found].sort();
  }

  async policyNameFor(route: RouteRef): Promise<string> {
    const key = this.keys.route(route.name);
    let override: string | null;
    try {
      override = await this.client.get(key);
    } catch (err) {
      throw redisUnavailable(err, `GET ${key}`);
    }
    return override === null || override === '' ? route.policy : override;
  }

  async toggles(policy: string): Promise<ReadonlyMap<string, ToggleState>> {
    const key = this.keys.toggles(policy);
    let hash: Record<string, string>;
    try {
      hash = await this.client.hgetall(key);
    } catch (err) {
      throw redisUnavailable(err, `HGETALL ${key}`);
    }
    const out = new Map<string, ToggleState>();
    // Anything but an explicit "off" is on: a garbled toggle must not disable a rule by accident.
    for (const [rule, state] of Object.entries(hash)) out.set(rule, state === 'off' ? 'off' : 'on');
    return out;
  }

  subscribe(handlers: SubscribeHandlers): Promise<PolicySubscription> {
    return subscribeChannel(this.client, this.keys.updates, this.subscriptions, {
      onMessage: (message) => {
        const update = parseUpdate(message);
        if (update !== undefined) handlers.onUpdate(update);
      },
      onReconnect: handlers.onReconnect,
    });
  }

  async close(): Promise<void> {
    await closeSubscriptions(this.subscriptions);
    if (this.ownsClient) await closeRedis(this.client);
  }
}

/** Reads a policy hash (or a history entry with the same fields). */
export function storedPolicyFrom(name: string, fields: Readonly<Record<string, string>>, where: string): StoredPolicy {
  const versionText = fields['version'] ?? '';
  if (!/^[1-9][0-9]{0,14}$/.test(versionText)) {
    throw new MaskerError('MASKER_POLICY_INVALID', `${where}: version: expected a positive integer`);
  }
  const docText = fields['doc'];
  const doc = docText === undefined ? undefined : parseJson(docText);
  if (doc === undefined) throw new MaskerError('MASKER_POLICY_INVALID', `${where}: doc: expected a JSON document`);
  const sha256 = fields['sha256'] ?? '';
  const signature = fields['signature'] ?? '';
  const updatedAt = fields['updatedAt'] ?? '';
  const updatedBy = fields['updatedBy'] ?? '';
  return {
    name,
    version: Number(versionText),
    doc,
    sha256,
    ...(signature === '' ? {} : { signature }),
    ...(updatedAt === '' ? {} : { updatedAt }),
    ...(updatedBy === '' ? {} : { updatedBy }),
  };
}

function stringFields(obj: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number') out[k] = String(v);
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function parseUpdate(message: string): PolicyUpdate | undefined {
  const parsed = parseJson(message);
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { name, version } = parsed as Record<string, unknown>;
  if (typeof name !== 'string' || typeof version !== 'number' || !Number.isInteger(version)) return undefined;
  return { name, version };
}
