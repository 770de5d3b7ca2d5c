import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../../../src/observability/logger.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The shipped customer CDC schema (tags included) and the first example record, as text and JSON. */
export function customersExample(): { schemaText: string; record: Record<string, unknown> } {
  const schemaText = readFileSync(`${REPO}examples/customers-cdc.avsc`, 'utf8');
  const line = readFileSync(`${REPO}examples/customers.jsonl`, 'utf8').split('\n')[0] ?? '';
  return { schemaText, record: JSON.parse(line) as Record<string, unknown> };
}

/** Values of the first example record that must never appear in any answer, log or audit event. */
export const RAW_CUSTOMER_VALUES = [
  'Sally Thomas', 'sally.thomas@acme.com', '555-0134', '219-09-9999', 'sally.t@gmail.com', '4111 1111 1111 1111',
  '415-555-0199', '221 Mission Street', '94105', 'DE89 3704', '203.0.113.42', 'SALLY2023', '3f2b6c1e-9a7d',
];

export function shippedPolicyDoc(): Record<string, unknown> {
  return parseYaml(readFileSync(`${REPO}policies/default.yaml`, 'utf8')) as Record<string, unknown>;
}

/** A pino logger writing into memory. */
export function memoryLogger(level = 'info'): { logger: Logger; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  return { logger: pino({ level }, stream), text: () => text };
}
