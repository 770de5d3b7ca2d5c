import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctRecords, readAudit } from './support/audit.js';
import { waitFor } from './support/cli-worker.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { consumeAll, createTopics, deleteTopics, endpoints, produceAvro, testKafka, testRegistry, unique } from './support/services.js';
import { hostPort, TcpProxy } from './support/tcp-proxy.js';

const schema = {
  type: 'record',
  name: 'Visit',
  namespace: 'it.outage',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
  ],
};

/**
 * The registry is unreachable when a new schema id arrives: the worker must back off and retry — not
 * quarantine good records, and publish nothing raw — then mask everything once the registry is back.
 */
describe('registry outage on a new schema id', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.outage.src');
  const target = unique('it.outage.dst');
  const { host, port } = hostPort(endpoints().registryUrl);
  const proxy = new TcpProxy(host, port);
  let pipeline: TestPipeline;

  beforeAll(async () => {
    const proxyPort = await proxy.start();
    await createTopics(kafka, [source]);
    await produceAvro(kafka, registry, source, schema, Array.from({ length: 10 }, (_, n) => ({ value: { n, email: `visitor${n}@secret.example` } })));
    proxy.down();
    pipeline = await startTestPipeline({
      route: { name: 'outage', source: { topic: source }, target: { topic: target }, policy: 'it-outage' },
      policiesDir: policyFolder({ apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'it-outage', rules: [] }),
      registryUrl: `http://127.0.0.1:${proxyPort}`,
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await proxy.stop();
    await deleteTopics(kafka, [source, target, pipeline?.auditTopic ?? '', pipeline?.quarantineTopic ?? ''].filter((t) => t !== ''));
  });

  it('retries while the registry is down, quarantines nothing, and masks all once it is back', async () => {
    await waitFor('the worker to retry the registry', async () => proxy.refused >= 3, 60_000);
    // Nothing committed anywhere while the registry is down: no target record, no quarantine, no audit.
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await Promise.all([target, pipeline.quarantineTopic, pipeline.auditTopic].map((t) => admin.fetchTopicOffsets(t)));
    await admin.disconnect();
    for (const partitions of offsets) expect(partitions.every((p) => p.high === '0')).toBe(true);

    proxy.restore();
    const out = await consumeAll(kafka, target, 10, { timeoutMs: 90_000 });
    expect(out).toHaveLength(10);
    const values = await Promise.all(out.map(async (m) => (await registry.decode(m.value!)) as { n: number; email: string }));
    expect(values.map((v) => v.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const v of values) expect(v.email).not.toContain('secret.example');
    const audit = await readAudit(kafka, pipeline.auditTopic, 10);
    expect(audit.records).toHaveLength(10);
    expect(distinctRecords(audit.records)).toBe(10);
    expect(audit.records.map((r) => r.outcome)).toEqual(Array(10).fill('masked'));
    expect(audit.text).not.toContain('secret.example');
  });
});
