import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyAuditEvent } from '../../../src/audit/audit-event.js';
import type { Logger } from '../../../src/observability/logger.js';
import { PolicyWatcher } from '../../../src/policy/policy-watcher.js';
import { MemoryPolicySource } from './memory-policy-source.js';

/** A pino logger whose JSON lines land in `lines`. */
function recordingLogger(lines: Record<string, unknown>[]): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
}

const route = { name: 'customers', policy: 'shop' };
const doc = (extra: readonly Record<string, unknown>[] = []): Record<string, unknown> => ({
  apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'shop',
  rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'redact' }, ...extra],
});
const phones = { name: 'phones', match: { tags: ['PHONE'] }, action: 'redact' };

describe('PolicyWatcher (logic, in-memory source)', () => {
  const watchers: PolicyWatcher[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
  });

  function watcher(source: MemoryPolicySource, events: PolicyAuditEvent[] = []): PolicyWatcher {
    const w = new PolicyWatcher({ source, routes: [route], pollIntervalMs: 0, onEvent: (e) => events.push(e) });
    watchers.push(w);
    return w;
  }

  it('keeps serving the last-known-good policy while the store is down, and catches up after', async () => {
    const source = new MemoryPolicySource();
    source.put(doc(), 1);
    const w = watcher(source);
    await w.start();
    source.down = true;
    source.put(doc([phones]), 2);
    await expect(w.refresh()).rejects.toMatchObject({ code: 'MASKER_REDIS_UNAVAILABLE' });
    expect(w.policyFor(route)?.version).toBe(1);
    source.down = false;
    await w.refresh();
    expect(w.policyFor(route)?.version).toBe(2);
  });

  it('swaps the whole policy object: a reader holding the old one is not mutated', async () => {
    const source = new MemoryPolicySource();
    source.put(doc(), 1);
    const w = watcher(source);
    await w.start();
    const before = w.policyFor(route);
    source.put(doc([phones]), 2);
    await w.refresh();
    expect(before?.policy.rules).toHaveLength(1);
    expect(w.policyFor(route)?.policy.rules).toHaveLength(2);
  });

  it('ignores toggles of rules the policy does not have, and turns rules back on', async () => {
    const source = new MemoryPolicySource();
    source.put(doc([phones]), 1);
    source.toggleMap.set('shop', new Map([['phones', 'off'], ['ghost', 'off']]));
    const events: PolicyAuditEvent[] = [];
    const w = watcher(source, events);
    await w.start();
    expect([...(w.policyFor(route)?.disabledRules ?? [])]).toEqual(['phones']);
    source.toggleMap.set('shop', new Map([['phones', 'on']]));
    await w.refresh();
    expect(w.policyFor(route)?.disabledRules.size).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['policy-applied', 'policy-applied']);
  });

  it('names the rules a toggle turned off in policy-applied events and log lines, so two events of one version differ', async () => {
    const source = new MemoryPolicySource();
    source.put(doc([phones]), 1);
    const events: PolicyAuditEvent[] = [];
    const lines: Record<string, unknown>[] = [];
    const w = new PolicyWatcher({ source, routes: [route], pollIntervalMs: 0, onEvent: (e) => events.push(e), logger: recordingLogger(lines) });
    watchers.push(w);
    await w.start();
    source.toggleMap.set('shop', new Map([['phones', 'off']]));
    await w.refresh();
    source.toggleMap.set('shop', new Map([['phones', 'on']]));
    await w.refresh();
    expect(events.map((e) => e.policy.disabledRules)).toEqual([[], ['phones'], []]);
    const applied = lines.filter((l) => l['msg'] === 'policy applied').map((l) => (l['policy'] as { disabledRules?: string[] }).disabledRules);
    expect(applied).toEqual([[], ['phones'], []]);
  });

  it('warns once per change when a store override wins over the route file, and says when it is gone', async () => {
    const source = new MemoryPolicySource();
    source.put(doc(), 1);
    source.put({ ...doc(), name: 'strict' }, 1);
    const lines: Record<string, unknown>[] = [];
    const w = new PolicyWatcher({ source, routes: [route], pollIntervalMs: 0, logger: recordingLogger(lines) });
    watchers.push(w);
    source.overrides.set('customers', 'strict');
    await w.start();
    await w.refresh();
    await w.refresh();
    const overridden = (): Record<string, unknown>[] => lines.filter((l) => String(l['msg']).startsWith('route policy overridden'));
    expect(overridden()).toHaveLength(1);
    expect(overridden()[0]).toMatchObject({ level: 40, route: 'customers', routeFilePolicy: 'shop', overridePolicy: 'strict' });
    expect(String(overridden()[0]?.['msg'])).toContain('masker policy route customers --clear');
    expect(w.policyFor(route)?.name).toBe('strict');
    source.overrides.delete('customers');
    await w.refresh();
    await w.refresh();
    expect(lines.filter((l) => String(l['msg']).startsWith('route policy override removed'))).toHaveLength(1);
    expect(w.policyFor(route)?.name).toBe('shop');
    source.overrides.set('customers', 'strict');
    await w.refresh();
    expect(overridden()).toHaveLength(2);
  });

  it('emits nothing when nothing changed', async () => {
    const source = new MemoryPolicySource();
    source.put(doc(), 1);
    const events: PolicyAuditEvent[] = [];
    const w = watcher(source, events);
    await w.start();
    await w.refresh();
    await w.refresh();
    expect(events).toHaveLength(1);
  });

  it('rejects a policy whose name differs from the name it is stored under', async () => {
    const source = new MemoryPolicySource();
    source.put(doc(), 1);
    const w = watcher(source);
    await w.start();
    const renamed = { ...doc(), name: 'other' };
    source.policies.set('shop', { name: 'shop', version: 2, doc: renamed, sha256: source.policies.get('shop')?.sha256 ?? '' });
    const rejected = w.waitForEvent((e) => e.type === 'policy-rejected', 1000);
    await w.refresh();
    expect((await rejected).error?.code).toBe('MASKER_POLICY_INVALID');
    expect(w.policyFor(route)?.version).toBe(1);
  });

  it('stop() closes the source once, fails pending waits, and is idempotent', async () => {
    const source = new MemoryPolicySource();
    const w = watcher(source);
    await w.start();
    expect(w.policyFor(route)).toBeUndefined();
    const waiting = w.waitForVersion('shop', 1, 10_000);
    await w.stop();
    await w.stop();
    await expect(waiting).rejects.toThrow('stopped');
    expect(source.closed).toBe(1);
  });

  it('times out a wait with a clear error', async () => {
    const w = watcher(new MemoryPolicySource());
    await w.start();
    await expect(w.waitForVersion('shop', 1, 20)).rejects.toThrow('timed out after 20 ms');
  });
});
