import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedisClient } from '../../../src/policy/redis-client.js';

/** REDIS_URL as set by the integration global setup (the real local Redis). */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '') throw new Error('REDIS_URL must be set (the integration global setup does it)');
  return url;
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `masker-test-${randomUUID()}`;
}

export function testClient(): Redis {
  return createRedisClient(redisUrl());
}

/** Deletes every key under `prefix:` (the test's own keys only). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** The minimal valid policy document, with optional extra rules. */
export function policyDoc(name: string, extraRules: readonly Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    apiVersion: 'masker/v1',
    kind: 'MaskingPolicy',
    name,
    rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' }, ...extraRules],
  };
}

export const PHONES_RULE = { name: 'phones', match: { tags: ['PHONE'] }, action: 'redact' } as const;
