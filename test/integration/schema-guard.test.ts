import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, SchemaAuditEvent } from '../../src/audit/audit-event.js';
import { KafkaAuditSink } from '../../src/audit/audit-sink.js';
import { registerSchemaCommand } from '../../src/cli/schema-command.js';
import { parseRoute, type Route } from '../../src/config/routes.js';
import { parseKeyRing } from '../../src/config/secrets.js';
import { createKafka } from '../../src/kafka/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { FilePolicyStore } from '../../src/policy/file-policy-store.js';
import { FileSchemaApprovals } from '../../src/policy/file-schema-approvals.js';
import { closeRedis, createRedisClient } from '../../src/policy/redis-client.js';
import { RedisSchemaApprovals } from '../../src/policy/redis-schema-approvals.js';
import type { SchemaApprovalStore } from '../../src/policy/schema-approvals.js';
import { SchemaGuard } from '../../src/policy/schema-guard.js';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { CachedSchemaLookup } from '../../src/registry/schema-cache.js';
import { QUARANTINE_HEADERS } from '../../src/worker/record-processor.js';
import { startWorker, type RunningWorker } from '../../src/worker/worker.js';
import { deleteKeys, uniquePrefix } from './policy/support.js';
import { distinctRecords, readAudit, type AuditRead } from './support/audit.js';
import { waitFor } from './support/cli-worker.js';
import { policyFolder, TEST_SECRET } from './support/pipeline.js';
import { consumeAll, createTopics, deleteTopics, endpoints, testKafka, testRegistry, unique } from './support/services.js';

/** A Debezium CDC envelope of a customer row; `extra` are the fields a producer adds later. */
function cdcSchema(extra: readonly object[]): object {
  return {
    type: 'record',
    name: 'Envelope',
    namespace: 'it.guard',
    fields: [
      {
        name: 'before',
        type: ['null', {
          type: 'record',
          name: 'Row',
          fields: [
            { name: 'id', type: 'long' },
            { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
            ...extra,
          ],
        }],
        default: null,
      },
      { name: 'after', type: ['null', 'Row'], default: null },
      { name: 'op', type: 'string' },
    ],
  };
}

const V1 = cdcSchema([]);
/** What the issue saw: untagged fields added in production. */
const V2 = cdcSchema([
  { name: 'secondary_email', type: ['null', 'string'], default: null },
  { name: 'tier', type: ['null', 'string'], default: null },
]);

interface Row { id: number; email: string; secondary_email?: string | null; tier?: string | null }

const policyDoc = (newFields?: string): Record<string, unknown> => ({
  apiVersion: 'masker/v1',
  kind: 'MaskingPolicy',
  name: 'guard',
  rules: [{ name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } }],
  ...(newFields === undefined ? {} : { newFields }),
});

/** A worker as `masker run` wires it: the guard's events go through the audit sink to the audit topic. */
class GuardedWorker {
  readonly kafka: Kafka;
  readonly route: Route;
  readonly audit = unique('it.guard.audit');
  readonly quarantine = unique('it.guard.quarantine');
  readonly routeName = unique('guard');
  guard!: SchemaGuard;
  private worker: RunningWorker | undefined;
  private sink!: KafkaAuditSink;

  constructor(readonly source: string, readonly target: string) {
    this.kafka = createKafka({ brokers: endpoints().brokers, clientId: unique('it-guard'), logger: createLogger('silent') });
    this.route = parseRoute({
      apiVersion: 'masker/v1', kind: 'Route', name: this.routeName, source: { topic: source }, target: { topic: target },
      policy: 'guard', envelope: 'debezium', key: 'drop',
    }, 'test route');
  }

  /** `pollIntervalMs`: how often the guard re-reads approvals (a long one leaves change notices alone to deliver them). */
  async start(store: SchemaApprovalStore, policy: Record<string, unknown>, pollIntervalMs: number): Promise<void> {
    const logger = createLogger('silent');
    await createTopics(this.kafka, [this.audit]);
    this.sink = new KafkaAuditSink(this.kafka, this.audit, logger);
    await this.sink.start();
    this.guard = new SchemaGuard({ store, routes: [this.route], pollIntervalMs, logger, onEvent: (e) => this.sink.publish(e) });
    await this.guard.start();
    this.worker = await startWorker({
      kafka: this.kafka,
      routes: [this.route],
      lookup: new CachedSchemaLookup(new RegistryClient({ url: endpoints().registryUrl })),
      keys: parseKeyRing(TEST_SECRET, 'test'),
      policies: new FilePolicyStore(policyFolder(policy)),
      schemaGuard: this.guard,
      groupId: unique('it-guard-group'),
      auditTopic: this.audit,
      quarantineTopic: this.quarantine,
      maxRecordBytes: 1024 * 1024,
      logger,
    });
  }

  async dispose(): Promise<void> {
    await this.worker?.stop();
    await this.guard?.stop();
    await this.sink?.stop();
    await deleteTopics(this.kafka, [this.source, this.target, this.audit, this.quarantine]);
  }
}

/** Runs `masker schema <args>` in-process (output collected); audit events go to the worker's audit topic. */
async function maskerSchema(args: string[], env: NodeJS.ProcessEnv, prefix?: string): Promise<string> {
  const out: string[] = [];
  const program = new Command('masker').exitOverride();
  registerSchemaCommand(program, {
    env, ...(prefix === undefined ? {} : { prefix }),
    out: { write: (s: string) => out.push(s) }, err: { write: (s: string) => out.push(s) },
  });
  await program.parseAsync(['schema', ...args], { from: 'user' });
  return out.join('');
}

/**
 * The worker's audit once it accounts for `records` source records (each exactly once) and holds the schema
 * events `schemaEvents` counts (the guard's events go through the sink, outside the worker's transactions).
 */
async function guardAudit(kafka: Kafka, topic: string, records: number, schemaEvents: (events: readonly AuditEvent[]) => boolean): Promise<AuditRead> {
  const audit = await readAudit(kafka, topic, records, { settleMs: 300, until: schemaEvents });
  expect(audit.records).toHaveLength(records);
  expect(distinctRecords(audit.records)).toBe(records);
  return audit;
}

const count = (type: SchemaAuditEvent['type'], n: number) => (events: readonly AuditEvent[]): boolean => events.filter((e) => e.type === type).length >= n;

async function produce(kafka: Kafka, topic: string, schemaId: number, rows: readonly Row[]): Promise<void> {
  const registry = testRegistry();
  const producer = kafka.producer();
  await producer.connect();
  try {
    const messages = await Promise.all(rows.map(async (after) => ({ value: await registry.encode(schemaId, { before: null, after, op: 'c' }) })));
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

async function register(subject: string, schema: object): Promise<number> {
  return (await testRegistry().register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject })).id;
}

async function maskedRows(kafka: Kafka, topic: string, count: number): Promise<Row[]> {
  const registry = testRegistry();
  const out = await consumeAll(kafka, topic, count, { settleMs: 300 });
  expect(out).toHaveLength(count);
  return Promise.all(out.map(async (m) => ((await registry.decode(m.value!)) as { after: Row }).after));
}

describe('schema-change guard on a real stream (approvals in Redis)', () => {
  const kafka = testKafka();
  const source = unique('it.prod.guard');
  const w = new GuardedWorker(source, unique('it.staging.guard'));
  const prefix = uniquePrefix();
  const redis = createRedisClient(endpoints().redisUrl);
  const cliEnv = (): NodeJS.ProcessEnv => ({ REDIS_URL: endpoints().redisUrl, KAFKA_BROKERS: endpoints().brokers.join(','), MASKER_AUDIT_TOPIC: w.audit });
  let v1: number;
  let v2: number;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    v1 = await register(`${source}-value`, V1);
    await produce(kafka, source, v1, [1, 2, 3].map((id) => ({ id, email: `first.${id}@mail.example.com` })));
    // Polling every 10 min: within this test only the change notice can bring an approval in.
    await w.start(RedisSchemaApprovals.fromUrl(endpoints().redisUrl, { prefix }), policyDoc(), 600_000);
  });

  afterAll(async () => {
    await w.dispose();
    await deleteKeys(redis, prefix);
    await closeRedis(redis);
  });

  it('records the first schema as the baseline (audited) and masks its records as usual', async () => {
    const rows = await maskedRows(kafka, w.target, 3);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    for (const r of rows) expect(r.email).not.toContain('first.');
    const { events } = await guardAudit(kafka, w.audit, 3, count('schema-approved', 1));
    expect(events.filter((e) => e.type === 'schema-approved')).toEqual([expect.objectContaining({
      schema: 'masker.audit/v1', route: w.routeName, subject: `${source}-value`, schemaId: v1, by: 'baseline',
    })]);
    expect(await redis.hkeys(`${prefix}:schemas:${w.routeName}:approved`)).toEqual([`${source}-value:${v1}`]);
  });

  it('redacts untagged fields a new producer schema adds, lists them as pending, and audits schema-held without values', async () => {
    v2 = await register(`${source}-value`, V2);
    expect(v2).not.toBe(v1);
    await produce(kafka, source, v2, [4, 5].map((id) => ({ id, email: `first.${id}@mail.example.com`, secondary_email: `second.${id}@corp.example.net`, tier: 'gold' })));
    const rows = await maskedRows(kafka, w.target, 5);
    for (const r of rows.slice(3)) {
      expect(r.secondary_email).toBe('[REDACTED]');
      expect(r.tier).toBe('[REDACTED]');
    }

    const pending = JSON.parse(await maskerSchema(['pending', '--route', w.routeName, '--json'], cliEnv(), prefix)) as unknown[];
    expect(pending).toEqual([{
      route: w.routeName, subject: `${source}-value`, schemaId: v2, firstSeen: expect.any(String) as string,
      newPaths: ['after.secondary_email', 'after.tier', 'before.secondary_email', 'before.tier'],
    }]);

    const audit = await guardAudit(kafka, w.audit, 5, count('schema-held', 1));
    const { events } = audit;
    const held = events.filter((e): e is SchemaAuditEvent => e.type === 'schema-held');
    expect(held).toEqual([expect.objectContaining({
      route: w.routeName, subject: `${source}-value`, schemaId: v2, newFields: 'redact-until-approved',
      newPaths: ['after.secondary_email', 'after.tier', 'before.secondary_email', 'before.tier'],
    })]);
    const records = audit.records.filter((r) => r.schemaId?.source === v2);
    expect(records).toHaveLength(2);
    expect(records.flatMap((r) => r.fields ?? []).filter((f) => f.path === 'after.tier')).toEqual([
      { path: 'after.tier', action: 'redact', rule: '(newField)' }, { path: 'after.tier', action: 'redact', rule: '(newField)' },
    ]);
    expect(audit.text).not.toContain('corp.example.net');
    expect(audit.text).not.toContain('gold');
  });

  it('after masker schema approve, the running worker lets the fields through (the safety net still scrubs PII)', async () => {
    const said = await maskerSchema(['approve', '--route', w.routeName, '--schema-id', String(v2), '--by', 'alice'], cliEnv(), prefix);
    expect(said).toContain(`approved schema id ${v2} on route ${w.routeName}`);
    // Picked up live through the change notice: the held set empties, no restart.
    await waitFor('the worker to pick up the approval', () => Promise.resolve(w.guard.forRoute(w.route).held('value', v2)?.size === 0), 15_000, 50);

    await produce(kafka, source, v2, [6, 7].map((id) => ({ id, email: `first.${id}@mail.example.com`, secondary_email: `second.${id}@corp.example.net`, tier: 'gold' })));
    const rows = await maskedRows(kafka, w.target, 7);
    for (const r of rows.slice(5)) {
      expect(r.tier).toBe('gold');
      expect(r.secondary_email).toBe('[EMAIL]');
    }
    const { events } = await guardAudit(kafka, w.audit, 7, (e) => e.some((x) => x.type === 'schema-approved' && x.by === 'alice'));
    expect(events.filter((e) => e.type === 'schema-approved' && e.by === 'alice')).toEqual([expect.objectContaining({
      route: w.routeName, subject: `${source}-value`, schemaId: v2, by: 'alice',
    })]);
    expect(JSON.parse(await maskerSchema(['pending', '--route', w.routeName, '--json'], cliEnv(), prefix))).toEqual([]);
  });
});

describe('schema-change guard with newFields: quarantine (approvals in the policies folder file)', () => {
  const kafka = testKafka();
  const source = unique('it.prod.guardq');
  const w = new GuardedWorker(source, unique('it.staging.guardq'));
  const dir = mkdtempSync(join(tmpdir(), 'masker-guard-policies-'));
  let v1: number;
  let v2: number;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    v1 = await register(`${source}-value`, V1);
    await produce(kafka, source, v1, [{ id: 1, email: 'first.1@mail.example.com' }]);
    await w.start(FileSchemaApprovals.inPoliciesDir(dir), policyDoc('quarantine'), 300); // the file has no notices: its mtime is polled
    await maskedRows(kafka, w.target, 1);
  });

  afterAll(async () => {
    await w.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('quarantines every record of an unapproved schema with MASKER_NEW_FIELDS, then masks them once approved', async () => {
    v2 = await register(`${source}-value`, V2);
    await produce(kafka, source, v2, [2, 3].map((id) => ({ id, email: `first.${id}@mail.example.com`, secondary_email: `second.${id}@corp.example.net`, tier: 'gold' })));
    const quarantined = await consumeAll(kafka, w.quarantine, 2, { settleMs: 300 });
    expect(quarantined.map((q) => q.headers[QUARANTINE_HEADERS.code]?.toString())).toEqual(['MASKER_NEW_FIELDS', 'MASKER_NEW_FIELDS']);
    const audit = await guardAudit(kafka, w.audit, 3, count('schema-held', 1));
    const { events } = audit;
    expect(audit.records.filter((r) => r.outcome === 'quarantined').map((r) => r.error?.code)).toEqual(['MASKER_NEW_FIELDS', 'MASKER_NEW_FIELDS']);
    expect(audit.text).not.toContain('corp.example.net');
    expect(events.filter((e) => e.type === 'schema-held')).toEqual([expect.objectContaining({ schemaId: v2, newFields: 'quarantine' })]);

    const env = { KAFKA_BROKERS: endpoints().brokers.join(','), MASKER_AUDIT_TOPIC: w.audit }; // no REDIS_URL: the file
    await maskerSchema(['approve', '--route', w.routeName, '--schema-id', String(v2), '--by', 'bob', '--policies', dir], env);
    await waitFor('the worker to see the file change', () => Promise.resolve(w.guard.forRoute(w.route).held('value', v2)?.size === 0), 15_000, 50);
    await produce(kafka, source, v2, [{ id: 4, email: 'first.4@mail.example.com', secondary_email: null, tier: 'gold' }]);
    const rows = await maskedRows(kafka, w.target, 2);
    expect(rows.map((r) => [r.id, r.tier])).toEqual([[1, undefined], [4, 'gold']]); // id 1 is a v1 record: no tier
  });
});
