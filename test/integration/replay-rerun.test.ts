import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, writeConfig } from './support/cli-worker.js';
import { consumeAll, createTopics, deleteTopics, endpoints, produceAvro, testKafka, testRegistry, unique } from './support/services.js';

/** Running `masker replay` again over a range it finished: said, not silently a no-op; `--again` is a new run. */

const BIN = resolve(import.meta.dirname, '../../bin/masker.js');
const schema = {
  type: 'record',
  name: 'Rerun',
  namespace: 'it.replay.rerun',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
  ],
};
const COUNT = 20;

interface Replay { code: Promise<number | null>; output: () => string; kill: (signal: NodeJS.Signals) => void }

describe('masker replay over a range it already replayed', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.rerun.src');
  const target = unique('it.rerun.dst');
  const audit = unique('it.rerun.audit');
  const quarantine = unique('it.rerun.quarantine');
  const config = writeConfig(
    `apiVersion: masker/v1\nkind: Route\nname: rerun\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: rerun\n`,
    'apiVersion: masker/v1\nkind: MaskingPolicy\nname: rerun\nrules: []\n',
  );

  function replay(args: string[]): Replay {
    const { brokers, registryUrl } = endpoints();
    const child = spawn(process.execPath, [BIN, 'replay', '--route', 'rerun', '--routes', config.routes, '--policies', config.policies, '--from', '0', '--to', String(COUNT), ...args], {
      env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl, MASKER_SECRET: 'rerun-test-secret-0123456789', MASKER_AUDIT_TOPIC: audit, MASKER_QUARANTINE_TOPIC: quarantine },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    return { code: new Promise((r) => child.once('exit', (c) => r(c))), output: () => output, kill: (s) => child.kill(s) };
  }

  /** How many times each source record `n` is in the target. */
  async function copies(expected: number): Promise<Map<number, number>> {
    const out = await consumeAll(kafka, target, expected, { settleMs: 1_500 });
    const counts = new Map<number, number>();
    for (const m of out) {
      const { n } = (await registry.decode(m.value!)) as { n: number };
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    return counts;
  }
  const each = (times: number): Map<number, number> => new Map(Array.from({ length: COUNT }, (_, n) => [n, times]));

  beforeAll(async () => {
    await createTopics(kafka, [source], 1);
    await produceAvro(kafka, registry, source, schema, Array.from({ length: COUNT }, (_, n) => ({ value: { n, email: `rerun${n}@example.org` } })));
  });
  afterAll(async () => {
    await deleteTopics(kafka, [source, target, audit, quarantine]);
  });

  it('says a finished range was already replayed (exit 0, nothing written); --again replays it as a new run, each run exactly once', async () => {
    const first = replay([]);
    expect(await first.code, first.output()).toBe(0);
    expect(first.output()).toContain('(run 1, group masker-replay-rerun-');
    expect(await copies(COUNT)).toEqual(each(1));

    const second = replay([]);
    expect(await second.code, second.output()).toBe(0);
    expect(second.output()).toMatch(/replay: already done: run 1 replayed these 20 records into \S+ before \(group masker-replay-rerun-[0-9a-f]{12}\); nothing written\. .*add --again/);
    expect(second.output()).not.toContain('re-masked');
    expect(await copies(COUNT)).toEqual(each(1));

    const again = replay(['--again']);
    expect(await again.code, again.output()).toBe(0);
    expect(again.output()).toMatch(/\(run 2, group masker-replay-rerun-[0-9a-f]{12}-r2; run the same command without --again to resume\)/);
    expect(again.output()).toContain('replay: done, 20 records re-masked');
    expect(await copies(2 * COUNT)).toEqual(each(2));

    const after = replay([]);
    expect(await after.code, after.output()).toBe(0);
    expect(after.output()).toContain('replay: already done: run 2 replayed these 20 records');
    expect(await copies(2 * COUNT)).toEqual(each(2));
  });

  it('an interrupted --again run resumes without --again, never writing a record twice within the run', async () => {
    const third = replay(['--again', '--rate', '4']);
    await waitFor('some progress of run 3', async () => /\(run 3, /.test(third.output()) && /replay: [1-9]\d*\/20/.test(third.output()), 30_000, 100);
    third.kill('SIGKILL');
    await third.code;
    const resumed = replay([]);
    expect(await resumed.code, resumed.output()).toBe(0);
    expect(resumed.output()).toContain('(run 3, group');
    expect(await copies(3 * COUNT)).toEqual(each(3));
  });
});
