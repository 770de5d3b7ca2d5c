import { Redis } from 'ioredis';
import { MaskerError } from '../errors.js';

export interface RedisClientOptions {
  /** Stop reconnecting after this many attempts (the CLI fails fast). Default: never stop (workers). */
  readonly maxReconnectAttempts?: number;
  /** How often a command is retried across reconnects before it fails. Default 1. */
  readonly maxRetriesPerRequest?: number;
  /** TCP connect timeout. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Connection errors (ioredis emits them while reconnecting). Default: ignored. Messages hold no credentials. */
  readonly onError?: (err: Error) => void;
  /** CLIENT SETNAME, so operators can tell masker's connections apart (`CLIENT LIST`). Default `masker`. */
  readonly connectionName?: string;
}

/**
 * An ioredis client for `REDIS_URL` (`redis://` or `rediss://` for TLS; credentials in the URL). Reconnects
 * with exponential backoff (100 ms doubling, capped at 5 s, with jitter); commands issued while
 * disconnected wait in the offline queue and fail after `maxRetriesPerRequest` reconnect attempts, so a
 * caller is never stuck for long and can keep serving what it has.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const maxAttempts = options.maxReconnectAttempts;
  const client = new Redis(url, {
    connectTimeout: options.connectTimeoutMs ?? 5000,
    connectionName: options.connectionName ?? 'masker',
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    retryStrategy: (times) => {
      if (maxAttempts !== undefined && times > maxAttempts) return null;
      const base = Math.min(100 * 2 ** Math.min(times - 1, 6), 5000);
      return Math.round(base * (0.8 + Math.random() * 0.4));
    },
  });
  const onError = options.onError;
  client.on('error', (err: Error) => onError?.(err));
  return client;
}

/** Closes a client without hanging: QUIT when connected (bounded), otherwise drop the connection. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.quit(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 1000);
        }),
      ]);
    } catch {
      // fall through to disconnect
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
  const status: string = client.status; // QUIT above may have ended it
  if (status !== 'end') client.disconnect();
}

/** `host:port/db` of a Redis URL: safe to print (no user, no password). */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'Redis (unparsable URL)';
  }
}

/** Wraps a failed Redis call as a retryable MaskerError (ioredis messages carry no credentials). */
export function redisUnavailable(err: unknown, what: string): MaskerError {
  if (err instanceof MaskerError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new MaskerError('MASKER_REDIS_UNAVAILABLE', `Redis: ${what} failed: ${reason}`, { cause: err });
}

/**
 * Subscribes to `channel` on a connection of its own (a subscribed connection can do nothing else),
 * registered in `subscriptions` until closed. `onReconnect` runs after every reconnect but the first:
 * notices sent while it was away are lost, so the caller catches up by polling.
 */
export async function subscribeChannel(
  client: Redis,
  channel: string,
  subscriptions: Set<Redis>,
  handlers: { readonly onMessage: (message: string) => void; readonly onReconnect: () => void },
): Promise<{ close(): Promise<void> }> {
  const sub = client.duplicate();
  sub.on('error', () => undefined); // reconnects on its own; the poller reports outages
  subscriptions.add(sub);
  let connectedOnce = false;
  sub.on('ready', () => {
    if (connectedOnce) handlers.onReconnect();
    connectedOnce = true;
  });
  sub.on('message', (from: string, message: string) => {
    if (from === channel) handlers.onMessage(message);
  });
  try {
    await sub.subscribe(channel);
  } catch (err) {
    subscriptions.delete(sub);
    await closeRedis(sub);
    throw redisUnavailable(err, `SUBSCRIBE ${channel}`);
  }
  return {
    close: async () => {
      subscriptions.delete(sub);
      await closeRedis(sub);
    },
  };
}

/** Closes every subscription connection in `subscriptions` (see subscribeChannel) and forgets them. */
export async function closeSubscriptions(subscriptions: Set<Redis>): Promise<void> {
  const subs = [...subscriptions];
  subscriptions.clear();
  await Promise.all(subs.map((s) => closeRedis(s)));
}
