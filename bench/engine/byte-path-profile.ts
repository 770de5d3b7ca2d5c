/**
 * The byte path alone on the reference CDC update, for a CPU profile (no codec or object path in the same
 * process, so the profile shows only what the worker runs):
 *
 *   tsc -p bench/tsconfig.json && node --cpu-prof --cpu-prof-dir=/tmp/prof .bench-build/bench/engine/byte-path-profile.js
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { parse as parseYaml } from 'yaml';
import { compilePlan, maskEncoded, parsePolicy, type KeyRing } from '../../src/masking/index.js';
import { customerEnvelope, prng } from './customer-records.js';

const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\.bench-build\/$/, '');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const POLICY = process.env['BENCH_POLICY'] ?? 'bench/engine/bench-policy.yaml';
const schemaJson: unknown = JSON.parse(readFileSync(`${ROOT}examples/customers-cdc.avsc`, 'utf8'));
const type = avro.Type.forSchema(schemaJson as avro.Schema);
const policy = parsePolicy(parseYaml(readFileSync(`${ROOT}${POLICY}`, 'utf8')) as Record<string, unknown>, POLICY);
const plan = compilePlan(type, policy, { envelope: 'debezium', schemaJson });
const secret = new TextEncoder().encode('bench-secret-0123456789abcdef');
const keys: KeyRing = { active: { id: 'bench', secret }, keys: new Map([['bench', { id: 'bench', secret }]]) };
const rand = prng(42);
const buffers = Array.from({ length: 10_000 }, (_, i) => type.toBuffer(customerEnvelope(i, 'cdc-update', rand)));

const started = process.cpuUsage();
const until = Date.now() + SECONDS * 1000;
let n = 0;
while (Date.now() < until) {
  for (const buf of buffers) maskEncoded(plan, buf, keys);
  n += buffers.length;
}
const cpu = process.cpuUsage(started);
process.stdout.write(`${n} records, ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU per record\n`);
