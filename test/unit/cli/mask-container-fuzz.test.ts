import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import avro from 'avsc';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { maskCommand } from '../../../src/cli/mask-command.js';
import { MaskerError } from '../../../src/errors.js';

/**
 * `masker mask` on container files with mutated or cut bytes: every run ends quickly, either with success
 * (and an output avsc reads, with as many records as reported) or with MASKER_DECODE — MASKER_INPUT only
 * when a mutation in the header made the writer schema a different one (or named a codec we do not read).
 * Never a hang, never another error, never a record value in the message.
 */

// No `long` field: a mutated long beyond 2^53 passes the byte path exactly but avsc refuses to decode it.
const schemaJson = {
  type: 'record',
  name: 'Fuzzed',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'aliases', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] },
    { name: 'counts', type: { type: 'map', values: 'int' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
    { name: 'score', type: ['null', 'double'], default: null },
    { name: 'active', type: 'boolean' },
    { name: 'note', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
  ],
} as unknown as avro.Schema;
const records = Array.from({ length: 10 }, (_, i) => ({
  id: i,
  email: `secret-${i}@example.org`,
  aliases: i % 2 === 0 ? [] : [`secret-alias-${i}`, `secret-other-${i}`],
  counts: { a: i, b: -i },
  kind: (['A', 'B', 'C'] as const)[i % 3],
  score: i % 3 === 0 ? null : i / 3,
  active: i % 2 === 0,
  note: i % 4 === 0 ? null : `secret note ${i}`,
}));

const dir = mkdtempSync(join(tmpdir(), 'masker-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SCHEMA = join(dir, 'fuzzed.avsc');
const POLICY = join(dir, 'fuzzed.yaml');
writeFileSync(SCHEMA, JSON.stringify(schemaJson));
writeFileSync(POLICY, 'apiVersion: masker/v1\nkind: MaskingPolicy\nname: fuzzed\nrules:\n  - { name: pii, match: { tags: [PII] }, action: redact }\n');
const MAGIC = 4;
const ENV = { MASKER_SECRET: 'fuzz-test-secret-0123456789abcdef' };

async function avscContainer(codec: 'null' | 'deflate'): Promise<Buffer> {
  const encoder = new avro.streams.BlockEncoder(schemaJson, { codec, blockSize: 100 });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => encoder.on('end', resolve));
  for (const r of records) encoder.write(r);
  encoder.end();
  await ended;
  return Buffer.concat(chunks);
}

async function avscCount(bytes: Buffer): Promise<number> {
  const decoder = new avro.streams.BlockDecoder();
  let n = 0;
  decoder.on('data', () => void n++);
  const ended = new Promise((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  decoder.end(bytes);
  await ended;
  return n;
}

type Outcome = { ok: true; records: number; output: Buffer } | { ok: false; error: unknown };

async function mask(bytes: Buffer, viaFile: boolean): Promise<Outcome> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  let input: string | undefined;
  if (viaFile) {
    input = join(dir, 'input.avro');
    writeFileSync(input, bytes);
  }
  // Small chunks from stdin: lengths cannot be checked against a file size, only against what arrives.
  const stdinChunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 64) stdinChunks.push(bytes.subarray(i, i + 64));
  const io = { stdout, stderr: new PassThrough(), stdin: Readable.from(viaFile ? [] : stdinChunks), env: ENV };
  try {
    const { records: n } = await maskCommand({ schema: SCHEMA, policy: POLICY, ...(input === undefined ? {} : { in: input }) }, io);
    return { ok: true, records: n, output: Buffer.concat(chunks) };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('masker mask on mutated container files', () => {
  for (const codec of ['null', 'deflate'] as const) {
    it(`${codec}: ends quickly with success or MASKER_DECODE`, async () => {
      const original = await avscContainer(codec);
      const sync = original.subarray(original.length - 16);
      const headerEnd = original.indexOf(sync) + 16;
      expect(await avscCount(original)).toBe(records.length);
      // Where a cut leaves a valid (shorter) file: right after the header or after a block's sync marker.
      const boundaries = new Set<number>();
      for (let at = original.indexOf(sync); at !== -1; at = original.indexOf(sync, at + 16)) boundaries.add(at + 16);
      expect(boundaries.size).toBeGreaterThan(3); // several blocks

      const edit = fc.record({ at: fc.nat({ max: original.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) });
      const mutation = fc.record({
        edits: fc.array(edit, { minLength: 0, maxLength: 4 }),
        // Blocks only (most runs) or anywhere, the header included.
        blocksOnly: fc.boolean(),
        cutAt: fc.option(fc.integer({ min: MAGIC, max: original.length - 1 }), { freq: 4 }),
        viaFile: fc.boolean(),
      });
      let failures = 0;
      await fc.assert(
        fc.asyncProperty(mutation, async ({ edits, blocksOnly, cutAt, viaFile }) => {
          const bytes = Buffer.from(original);
          // The magic stays: without it the input is read as JSON lines (tested in mask-command.test.ts).
          const positions = edits.map(({ at }) => (blocksOnly ? headerEnd + (at % (original.length - headerEnd)) : MAGIC + (at % (original.length - MAGIC))));
          edits.forEach(({ byte }, i) => void (bytes[positions[i]!] = byte));
          const input = cutAt === null ? bytes : bytes.subarray(0, cutAt);
          const started = Date.now();
          const outcome = await mask(input, viaFile);
          expect(Date.now() - started).toBeLessThan(5000);
          // A cut alone (no edit) fails unless it falls between blocks: no record is ever lost silently.
          if (edits.length === 0 && cutAt !== null) expect(outcome.ok).toBe(boundaries.has(cutAt));
          if (outcome.ok) {
            expect(await avscCount(outcome.output)).toBe(outcome.records);
            expect(outcome.output.includes(Buffer.from('secret'))).toBe(false);
            return;
          }
          failures++;
          const error = outcome.error;
          expect(error).toBeInstanceOf(MaskerError);
          const { code, message } = error as MaskerError;
          expect(message).not.toContain('secret');
          if (code === 'MASKER_INPUT') {
            expect(Math.min(...positions, cutAt ?? Infinity)).toBeLessThan(headerEnd);
            expect(message).toMatch(/different schema than --schema|codec/);
          } else {
            expect(code).toBe('MASKER_DECODE');
            expect(message).toMatch(/^(container header(, at byte \d+)?|block \d+ at byte \d+): /);
          }
        }),
        { numRuns: 250 },
      );
      expect(failures).toBeGreaterThan(0); // the property did see corrupt files
    }, 120_000);
  }
});
