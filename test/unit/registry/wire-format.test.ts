import { describe, expect, it } from 'vitest';
import { MaskerError } from '../../../src/errors.js';
import { readFrame, writeFrame } from '../../../src/registry/wire-format.js';

describe('Confluent wire format', () => {
  it('round-trips schema id and body', () => {
    const framed = writeFrame(4242, Buffer.from([1, 2, 3]));
    expect([...framed.subarray(0, 5)]).toEqual([0, 0, 0, 0x10, 0x92]);
    const { schemaId, body } = readFrame(framed, 't/0@1');
    expect(schemaId).toBe(4242);
    expect([...body]).toEqual([1, 2, 3]);
  });

  it.each([
    ['empty', Buffer.alloc(0), /got 0/],
    ['short', Buffer.from([0, 0, 1]), /got 3/],
    ['wrong magic byte', Buffer.from([7, 0, 0, 0, 1, 9]), /magic byte 0, found 7/],
  ])('rejects %s with MASKER_WIRE_FORMAT and the location', (_label, payload, message) => {
    let caught: unknown;
    try {
      readFrame(payload, 'orders/3@17 value');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MaskerError);
    expect((caught as MaskerError).code).toBe('MASKER_WIRE_FORMAT');
    expect((caught as MaskerError).message).toMatch(/^orders\/3@17 value: /);
    expect((caught as MaskerError).message).toMatch(message);
  });
});
