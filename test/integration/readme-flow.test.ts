import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliWorker, waitFor, type CliWorker } from './support/cli-worker.js';
import { consumeAll, deleteTopics, endpoints, testKafka, testRegistry, unique } from './support/services.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** The README's "run masker on the shipped route and policy" commands, as a user types them. */
describe('README flow: masker produce + masker run with the shipped topics/ and policies/', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const source = 'prod.cdc.customers';
  const target = 'staging.cdc.customers';
  const audit = unique('it.readme.audit');
  const quarantine = unique('it.readme.quarantine');
  let worker: CliWorker;

  beforeAll(async () => {
    await deleteTopics(kafka, [source, target]);
    const { brokers, registryUrl } = endpoints();
    const env = { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl };
    const { stdout } = await run(process.execPath, ['bin/masker.js', 'produce', '--topic', source, '--schema', 'examples/customers-cdc.avsc', '--in', 'examples/customers.jsonl'], { cwd: ROOT, env });
    expect(stdout).toMatch(/produced 4 records to prod\.cdc\.customers/);
    worker = startCliWorker({ routes: `${ROOT}/topics`, policies: `${ROOT}/policies` }, {
      MASKER_SECRET: 'readme-test-secret-0123456789abcdef',
      MASKER_GROUP_ID: unique('it-readme'),
      MASKER_AUDIT_TOPIC: audit,
      MASKER_QUARANTINE_TOPIC: quarantine,
    });
    await waitFor('the worker to start', async () => worker.stderr().includes('worker started') || worker.child.exitCode !== null);
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await deleteTopics(kafka, [source, target, audit, quarantine]);
  });

  it('masks the example CDC records: no name, email, phone or SSN from the input survives', async () => {
    expect(worker.child.exitCode, worker.stderr()).toBeNull();
    const out = await consumeAll(kafka, target, 4);
    expect(out).toHaveLength(4);
    const text = JSON.stringify(await Promise.all(out.map((m) => registry.decode(m.value!))));
    const input = readFileSync(`${ROOT}/examples/customers.jsonl`, 'utf8');
    for (const raw of ['Sally Thomas', 'sally.thomas@acme.com', '+1 (415) 555-0134', '219-09-9999', 'George Bailey', 'gbailey@foobar.com']) {
      expect(input).toContain(raw);
      expect(text).not.toContain(raw);
    }
  });
});
