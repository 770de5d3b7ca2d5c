import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// kafkajs' record batch checksum, as patched (patches/kafkajs+2.2.4.patch), and its own JS implementation.
const require = createRequire(import.meta.url);
const checksum = require('kafkajs/src/protocol/recordBatch/crc32C') as ((b: Buffer) => number) & { native: boolean };
const jsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (b: Buffer) => number;

describe('kafkajs record batch CRC32C (patched to native)', () => {
  it('runs natively on this machine', () => {
    expect(checksum.native).toBe(true);
  });

  it('equals kafkajs\' JS implementation on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
      const buf = Buffer.from(bytes);
      expect(checksum(buf)).toBe(jsCrc32C(buf) >>> 0);
    }), { numRuns: 300 });
  });

  it('gives the CRC32C check value for "123456789"', () => {
    expect(checksum(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});
