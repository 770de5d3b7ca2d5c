import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditMode } from '../../src/audit/audit-event.js';
import { readAudit } from './support/audit.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { createTopics, endpoints, testKafka, testRegistry, unique } from './support/services.js';
import { SchemaType } from '@kafkajs/confluent-schema-registry';

const BIN = resolve(import.meta.dirname, '../../bin/masker.js');

const schema = {
  type: 'record',
  name: 'Member',
  namespace: 'it.auditcmd',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
  ],
};
const SECRET = 'audit.cmd.never.shown@example.org';

/** `masker audit` (the built bin, `npm run build` first) against the audit a real worker wrote. */
function masker(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { brokers } = endpoints();
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers.join(','), LOG_LEVEL: 'silent' },
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

describe.each<AuditMode>(['chunk', 'record'])('masker audit answers from the audit topic (audit %s)', (auditMode) => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.auditcmd.src');
  let pipeline: TestPipeline;
  // Offsets 0-2 and 4-5 masked; offset 3 is not in the wire format (quarantined: MASKER_WIRE_FORMAT).
  const QUARANTINED = 3;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${source}-value` });
    const good = async (n: number): Promise<Buffer> => registry.encode(id, { id: n, email: `${n}.${SECRET}` });
    const values = [await good(0), await good(1), await good(2), Buffer.from(`{"email":"${SECRET}"}`), await good(4), await good(5)];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: source, messages: values.map((value) => ({ value })) });
    await producer.disconnect();
    pipeline = await startTestPipeline({
      route: { name: unique('auditcmd'), source: { topic: source }, target: { topic: unique('it.auditcmd.dst') }, policy: 'it-audit-cmd' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-audit-cmd', rules: [] }),
      auditMode,
    });
    await readAudit(pipeline.targetKafka, pipeline.auditTopic, values.length);
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('names the policy version and plan that masked an offset, and the error of a quarantined one', async () => {
    const masked = await masker(['audit', '--topic', source, '--offset', '1', '--audit-topic', pipeline.auditTopic]);
    expect(masked.code, masked.stderr).toBe(0);
    expect(masked.stdout).toContain(`${source}/0@1: masked\n`);
    expect(masked.stdout).toContain('  policy       it-audit-cmd version 1\n');
    expect(masked.stdout).toMatch(/\n {2}value schema \d+ → \d+\n/);
    if (auditMode === 'chunk') expect(masked.stdout).toMatch(/\n {2}plan {9}[0-9a-f]{16}\n/);
    expect(masked.stdout).toContain(`  audited by   ${auditMode === 'chunk' ? 'chunk' : 'record'} ${source}:0:`);

    const bad = await masker(['audit', '--topic', source, '--partition', '0', '--offset', String(QUARANTINED), '--audit-topic', pipeline.auditTopic]);
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stdout).toContain(`${source}/0@${QUARANTINED}: quarantined\n`);
    expect(bad.stdout).toContain('  error        MASKER_WIRE_FORMAT: ');
    for (const out of [masked, bad]) expect(out.stdout + out.stderr).not.toContain(SECRET);
  });

  it('lists a range\'s outcomes, its plan with the policy version, and the quarantined offset with its code', async () => {
    const range = await masker(['audit', '--topic', source, '--from', '0', '--to', '7', '--audit-topic', pipeline.auditTopic]);
    expect(range.code, range.stderr).toBe(0);
    // Chunk events name the workers' consumer group (the audit run); v1 record events name none.
    expect(range.stdout).toContain(auditMode === 'chunk' ? `${source}/0 offsets 0..7 (group ${pipeline.groupId}): 6 record(s)` : `${source}/0 offsets 0..7: 6 record(s)`);
    expect(range.stdout).toContain('  outcomes     masked 5, quarantined 1, tombstone 0\n');
    expect(range.stdout).toContain(`  quarantined  ${QUARANTINED}  MASKER_WIRE_FORMAT: `);
    expect(range.stdout).toContain('  no event     6..7 (');
    if (auditMode === 'chunk') expect(range.stdout).toMatch(/\n {2}plan {9}[0-9a-f]{16} {2}it-audit-cmd version 1 /);
    expect(range.stdout + range.stderr).not.toContain(SECRET);

    const json = await masker(['audit', '--topic', source, '--from', '0', '--to', '5', '--json', '--audit-topic', pipeline.auditTopic]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'range',
      partitions: [{ partition: 0, outcomes: { masked: 5, quarantined: 1, tombstone: 0 }, quarantined: [{ offset: String(QUARANTINED), code: 'MASKER_WIRE_FORMAT' }], uncovered: [] }],
    });
  });

  it('exits 1 when no event covers the offset, 2 for an unknown audit topic', async () => {
    const none = await masker(['audit', '--topic', source, '--offset', '99', '--audit-topic', pipeline.auditTopic]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe(`no audit event covers ${source}/0@99\n`);
    const missing = unique('it.auditcmd.none');
    const unknown = await masker(['audit', '--topic', source, '--offset', '1', '--audit-topic', missing]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`audit topic ${missing} does not exist (KAFKA_BROKERS=`);
  });
});
