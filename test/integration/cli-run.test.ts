import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_HEADER, SOURCE_OFFSET_HEADER } from '../../src/audit/audit-event.js';
import { distinctRecords, readAudit } from './support/audit.js';
import { startCliWorker, waitFor, writeConfig, type CliWorker } from './support/cli-worker.js';
import { consumeAll, createTopics, deleteTopics, produceAvro, testKafka, testRegistry, unique } from './support/services.js';

const schema = {
  type: 'record',
  name: 'Signup',
  namespace: 'it.cli',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'plan', type: 'string' },
  ],
};

/** Runs the built CLI as a user would: `masker run --routes DIR --policies DIR` with env endpoints. */
describe('masker run (the bin, as a separate process)', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.cli.src');
  const target = unique('it.cli.dst');
  const audit = unique('it.cli.audit');
  const quarantine = unique('it.cli.quarantine');
  let worker: CliWorker;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, [1, 2, 3].map((i) => ({ value: { id: i, email: `user${i}@corp.example`, plan: 'pro' } })));
    const config = writeConfig(
      `apiVersion: masker/v1\nkind: Route\nname: signups\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: cli-test\n`,
      'apiVersion: masker/v1\nkind: MaskingPolicy\nname: cli-test\nrules: []\n',
    );
    worker = startCliWorker(config, {
      MASKER_SECRET: 'cli-test-secret-0123456789abcdef',
      MASKER_GROUP_ID: unique('it-cli-group'),
      MASKER_AUDIT_TOPIC: audit,
      MASKER_QUARANTINE_TOPIC: quarantine,
    });
  });

  afterAll(async () => {
    await worker.stop('SIGKILL');
    await deleteTopics(kafka, [source, target, audit, quarantine]);
  });

  it('masks what a user produced and logs no value', async () => {
    await waitFor('the worker to start', async () => worker.stderr().includes('worker started') || worker.child.exitCode !== null);
    expect(worker.child.exitCode, worker.stderr()).toBeNull();
    const out = await consumeAll(kafka, target, 3);
    const values = await Promise.all(out.map(async (m) => (await registry.decode(m.value!)) as { id: number; email: string; plan: string }));
    expect(values.map((v) => v.id)).toEqual([1, 2, 3]);
    for (const v of values) {
      expect(v.email).not.toMatch(/^user\d@corp\.example$/);
      expect(v.plan).toBe('pro');
    }
    expect(worker.stderr()).toContain('worker started');
    expect(worker.stderr()).not.toContain('corp.example');
  });

  it('audits by chunk by default (MASKER_AUDIT unset): every record once, its plan and source offset in lineage headers', async () => {
    const read = await readAudit(kafka, audit, 3);
    expect(read.records).toHaveLength(3);
    expect(distinctRecords(read.records)).toBe(3);
    expect(read.events.filter((e) => e.type === 'record')).toHaveLength(0);
    expect(read.records.every((r) => r.from.type === 'chunk' && r.outcome === 'masked' && r.policy?.name === 'cli-test')).toBe(true);
    const out = await consumeAll(kafka, target, 3);
    for (const m of out) {
      expect(m.headers[PLAN_HEADER]?.toString()).toBe(read.records[0]!.planHash);
      expect(m.headers[SOURCE_OFFSET_HEADER]?.toString()).toBe(m.offset); // one partition, nothing quarantined: same offsets
    }
    expect(read.text).not.toContain('corp.example');
  });

  it('stops cleanly on SIGTERM during startup too', async () => {
    const early = startCliWorker(writeConfig(
      `apiVersion: masker/v1\nkind: Route\nname: early\nsource: { topic: ${source} }\ntarget: { topic: ${target}.early }\npolicy: cli-test\n`,
      'apiVersion: masker/v1\nkind: MaskingPolicy\nname: cli-test\nrules: []\n',
    ), { MASKER_SECRET: 'cli-test-secret-0123456789abcdef', MASKER_GROUP_ID: unique('it-cli-early'), MASKER_AUDIT_TOPIC: audit, MASKER_QUARANTINE_TOPIC: quarantine });
    await waitFor('configuration loaded', async () => early.stderr().includes('configuration loaded'), 30_000, 20);
    expect(await early.stop('SIGTERM')).toBe(0);
    await deleteTopics(kafka, [`${target}.early`]);
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});

describe('masker run with MASKER_AUDIT=record (audit v1)', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.cli.v1.src');
  const target = unique('it.cli.v1.dst');
  const audit = unique('it.cli.v1.audit');
  const quarantine = unique('it.cli.v1.quarantine');
  let worker: CliWorker;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, [
      ...[1, 2, 3].map((i) => ({ value: { id: i, email: `user${i}@corp.example`, plan: 'pro' } })),
      { value: Buffer.from('{"email":"user4@corp.example"}') },
    ]);
    worker = startCliWorker(writeConfig(
      `apiVersion: masker/v1\nkind: Route\nname: signups\nsource: { topic: ${source} }\ntarget: { topic: ${target} }\npolicy: cli-test\n`,
      'apiVersion: masker/v1\nkind: MaskingPolicy\nname: cli-test\nrules: []\n',
    ), {
      MASKER_SECRET: 'cli-test-secret-0123456789abcdef',
      MASKER_GROUP_ID: unique('it-cli-v1'),
      MASKER_AUDIT: 'record',
      MASKER_AUDIT_TOPIC: audit,
      MASKER_QUARANTINE_TOPIC: quarantine,
    });
  });

  afterAll(async () => {
    await worker.stop('SIGKILL');
    await deleteTopics(kafka, [source, target, audit, quarantine]);
  });

  it('writes one record event per source record, no chunk or plan event, no lineage headers', async () => {
    await waitFor('the worker to start', async () => worker.stderr().includes('worker started') || worker.child.exitCode !== null);
    expect(worker.child.exitCode, worker.stderr()).toBeNull();
    const out = await consumeAll(kafka, target, 3);
    expect(out).toHaveLength(3);
    for (const m of out) expect(Object.keys(m.headers)).toEqual([]);
    const read = await readAudit(kafka, audit, 4);
    expect(read.events.map((e) => e.type).filter((t) => t !== 'schema-approved')).toEqual(['record', 'record', 'record', 'record']);
    expect(read.events.every((e) => e.schema === 'masker.audit/v1')).toBe(true);
    expect(distinctRecords(read.records)).toBe(4);
    expect(read.records.map((r) => r.outcome)).toEqual(['masked', 'masked', 'masked', 'quarantined']);
    expect(read.records[0]).toMatchObject({ policy: { name: 'cli-test', version: 1 }, fields: [{ path: 'email' }] });
    expect(read.records[3]!.error?.code).toBe('MASKER_WIRE_FORMAT');
    expect(read.text).not.toContain('corp.example');
    expect(worker.stderr()).not.toContain('corp.example');
  });
});

describe('masker run refuses to start rather than guess', () => {
  const kafka = testKafka();
  const source = unique('it.cli.refuse');

  beforeAll(async () => {
    await createTopics(kafka, [source]);
  });

  afterAll(async () => {
    await deleteTopics(kafka, [source]);
  });

  const route = (topic: string, policy: string): string =>
    `apiVersion: masker/v1\nkind: Route\nname: refuse\nsource: { topic: ${topic} }\ntarget: { topic: ${topic}.masked }\npolicy: ${policy}\n`;
  const policy = 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: present\nrules: []\n';
  const env = { MASKER_SECRET: 'cli-test-secret-0123456789abcdef', MASKER_GROUP_ID: unique('it-cli-refuse') };

  it.each([
    ['a route whose policy does not exist', () => route(source, 'absent'), policy, /MASKER_POLICY_MISSING: route refuse: policy "absent" not found/],
    ['a route whose source topic does not exist', () => route(unique('it.nope'), 'present'), policy, /MASKER_CONFIG: route refuse: source topic .* does not exist/],
    ['an invalid policy file', () => route(source, 'present'), 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: present\nrules: [{ name: x, match: {}, action: explode }]\n', /MASKER_POLICY_INVALID/],
  ])('exits 2 with a clear message for %s', async (_label, makeRoute, policyText, message) => {
    const worker = startCliWorker(writeConfig(makeRoute(), policyText), env);
    const code = await new Promise<number | null>((r) => worker.child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(worker.stderr()).toMatch(message);
  });
});
