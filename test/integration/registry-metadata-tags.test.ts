import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy, PlanCache, type PlanPolicy } from '../../src/masking/index.js';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { CachedSchemaLookup } from '../../src/registry/schema-cache.js';
import { readFrame } from '../../src/registry/wire-format.js';
import { policyFolder, startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { consumeAll, createTopics, endpoints, testKafka, testRegistry, unique } from './support/services.js';

/**
 * Registry-level data-contract tags (`metadata.tags`) against the real local registry. A unique namespace
 * per run: the local registry (AxonOps) gives one id to one schema text, so a shared text would share its id
 * (and its subject-versions' metadata) with other tests.
 */
const namespace = `it.meta.n${randomUUID().replaceAll('-', '')}`;
const valueSchema = {
  type: 'record',
  name: 'Customer',
  namespace,
  fields: [
    { name: 'id', type: 'long' },
    // No confluent:tags: only the registry metadata says this is PII.
    { name: 'nickname', type: 'string' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'plan', type: 'string' },
  ],
};
const metadataTags = {
  [`${namespace}.Customer.nickname`]: ['NICK', 'PII'],
  // Matches no field: ignored (debug log), not an error.
  '**.ssn': ['PII'],
};

const customers = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, nickname: `Stardust-${i}`, email: `ziggy.${i}@example.org`, plan: i % 2 === 0 ? 'gold' : 'basic' }));

const policyDoc = {
  apiVersion: 'masker/v1',
  kind: 'MaskingPolicy',
  name: 'it-metadata-tags',
  newFields: 'pass',
  rules: [{ name: 'nicknames', match: { tags: ['NICK'] }, action: 'redact', params: { replacement: '[nick]' } }],
};

async function registryJson(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(endpoints().registryUrl + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = await res.json() as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

function tagsOf(json: unknown, field: string): unknown {
  return (json as { fields: { name: string; 'confluent:tags'?: unknown }[] }).fields.find((f) => f.name === field)?.['confluent:tags'];
}

describe('registry metadata.tags mark fields as PII (real registry)', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = unique('it.prod.meta');
  const target = unique('it.staging.meta');
  let valueId: number;
  let pipeline: TestPipeline | undefined;

  beforeAll(async () => {
    await createTopics(kafka, [source]);
    // Registered the data-contract way: tags in the version's metadata, none on the field.
    ({ id: valueId } = await registryJson('POST', `/subjects/${encodeURIComponent(`${source}-value`)}/versions`, {
      schema: JSON.stringify(valueSchema),
      schemaType: 'AVRO',
      metadata: { tags: metadataTags, properties: { owner: 'crm' } },
    }) as { id: number });
  });

  afterAll(async () => {
    await pipeline?.dispose();
  });

  it('resolves the id with the metadata tags merged into confluent:tags, and the plan has a decision for the field', async () => {
    const schema = await new CachedSchemaLookup(new RegistryClient({ url: endpoints().registryUrl })).byId(valueId);
    expect(tagsOf(schema.json, 'nickname')).toEqual(['NICK', 'PII']);
    expect(tagsOf(schema.json, 'email')).toEqual(['PII']);
    expect(tagsOf(JSON.parse(schema.text), 'nickname')).toBeUndefined();
    const policy: PlanPolicy = { name: 'it', version: 1, sha256: 'it', disabledRules: new Set(), policy: parsePolicy(policyDoc, 'test') };
    const entry = new PlanCache().get(schema, policy, 'none');
    if (!entry.ok) throw entry.error;
    expect(entry.plan.decisions).toContainEqual(expect.objectContaining({ path: 'nickname', action: 'redact', rule: 'nicknames' }));
  });

  it('masks the metadata-tagged field end to end, and the target subject carries the metadata tags', async () => {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: source, messages: await Promise.all(customers.map(async (c) => ({ value: await registry.encode(valueId, c) }))) });
    } finally {
      await producer.disconnect();
    }
    pipeline = await startTestPipeline({
      route: { name: 'meta', source: { topic: source }, target: { topic: target }, policy: 'it-metadata-tags', envelope: 'none', key: 'keep' },
      policiesDir: policyFolder(policyDoc),
    });

    const out = await consumeAll(kafka, target, customers.length);
    expect(out).toHaveLength(customers.length);
    for (const [i, message] of out.entries()) {
      const masked = (await registry.decode(message.value!)) as (typeof customers)[number];
      expect(masked.nickname).toBe('[nick]');
      expect(masked.email).not.toBe(customers[i]!.email);
      expect(masked.plan).toBe(customers[i]!.plan);
    }
    const bytes = Buffer.concat(out.map((m) => m.value!)).toString('latin1');
    for (const c of customers) expect(bytes).not.toContain(c.nickname);

    // The masked schema, registered on the target subject, keeps the writer's metadata tags.
    const targetId = readFrame(out[0]!.value!, 'target').schemaId;
    const latest = await registryJson('GET', `/subjects/${encodeURIComponent(`${target}-value`)}/versions/latest`);
    expect(latest['id']).toBe(targetId);
    expect((latest['metadata'] as { tags?: unknown } | undefined)?.tags).toEqual(metadataTags);
    expect(JSON.parse(latest['schema'] as string)).toEqual(valueSchema);
  });
});
