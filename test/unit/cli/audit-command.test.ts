import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/audit-event.js';
import { AuditIndex } from '../../../src/audit/audit-index.js';
import { concerns, parseAuditQuery, problemKind, readNotes, type AuditQuery } from '../../../src/cli/audit-command.js';
import { answerOffset, answerRange, offsetExitCode, renderJson, renderOffsetText, renderRangeText } from '../../../src/cli/audit-report.js';
import { main } from '../../../src/cli/main.js';
import { chunkEvent, planEvent, quarantined, recordEvent, run } from '../audit/audit-events.js';
import { captureCliStderr } from './support.js';

/** `masker audit` without Kafka: option checks, and its answers from an index of hand-made events. */

function indexOf(events: readonly AuditEvent[]): AuditIndex {
  const index = new AuditIndex();
  for (const e of events) index.add(e);
  return index;
}

// customers/0: plan aaaa (policy version 1) masks 0-3, 4 quarantined, plan bbbb (version 2) masks 5-9.
// customers/1: 0-2 masked by aaaa. orders (v1): record events.
const index = indexOf([
  planEvent('aaaa', 1),
  planEvent('bbbb', 2, { policy: { name: 'customers-pii', version: 2, sha256: 'd'.repeat(64), disabledRules: ['notes'] } }),
  chunkEvent(0, 0, 9, [run('aaaa', 0, 3), run('bbbb', 5, 9)], [quarantined(4)]),
  chunkEvent(1, 0, 2, [run('aaaa', 0, 2)], []),
  recordEvent(0),
  recordEvent(1, { outcome: 'quarantined', policy: null, target: null, fields: [], error: { code: 'MASKER_RECORD_TOO_LARGE', message: 'orders/0@1: 2000000 bytes exceeds MASKER_MAX_RECORD_BYTES=921600' } }),
]);

describe('masker audit options', () => {
  it('takes one offset or an inclusive range, of one partition or all', () => {
    expect(parseAuditQuery({ topic: 'customers', offset: '17' })).toEqual({ kind: 'offset', topic: 'customers', offset: 17n });
    expect(parseAuditQuery({ topic: 'customers', offset: '0', partition: '3' })).toEqual({ kind: 'offset', topic: 'customers', partition: 3, offset: 0n });
    expect(parseAuditQuery({ topic: 'customers', from: '5', to: '5' })).toEqual({ kind: 'range', topic: 'customers', from: 5n, to: 5n });
    expect(parseAuditQuery({ topic: 'customers', offset: '9223372036854775807' })).toMatchObject({ offset: 2n ** 63n - 1n });
  });

  it.each([
    [{ topic: 'customers', offset: '-1' }, /--offset: expected a source offset \(an integer from 0\), got "-1"/],
    [{ topic: 'customers', offset: '1.5' }, /--offset: .*got "1.5"/],
    [{ topic: 'customers', offset: '9223372036854775808' }, /--offset: expected a source offset/],
    [{ topic: 'customers', from: 'x', to: '3' }, /--from: expected a source offset .*got "x"/],
    [{ topic: 'customers', from: '1', to: '' }, /--to: expected a source offset/],
    [{ topic: 'customers', offset: '1', from: '0', to: '3' }, /--offset .* --from\/--to .* not both/],
    [{ topic: 'customers', offset: '1', to: '3' }, /not both/],
    [{ topic: 'customers', from: '3' }, /--from needs --to/],
    [{ topic: 'customers', to: '3' }, /--to needs --from/],
    [{ topic: 'customers', from: '9', to: '3' }, /--from 9 is after --to 3/],
    [{ topic: 'customers' }, /expected --offset X .* or --from X --to Y/],
    [{ topic: 'customers', offset: '1', partition: '-2' }, /--partition: expected a partition number/],
    [{ offset: '1' }, /--topic: expected the source topic/],
  ])('refuses %o, naming the option', (options, message) => {
    expect(() => parseAuditQuery(options)).toThrow(message);
  });

  describe('through the command line', () => {
    const stderr = captureCliStderr({ KAFKA_BROKERS: '127.0.0.1:1' });
    it('exits 2 with the message before reaching Kafka', async () => {
      expect(await main(['audit', '--topic', 'customers', '--offset', 'abc'])).toBe(2);
      expect(stderr()).toContain('masker: MASKER_INPUT: --offset: expected a source offset');
      expect(await main(['audit', '--offset', '3'])).toBe(2);
      expect(stderr()).toContain("required option '--topic <topic>' not specified");
    });
  });
});

describe('which audit events a question keeps', () => {
  const offset: AuditQuery = { kind: 'offset', topic: 'customers', offset: 4n };
  const range: AuditQuery = { kind: 'range', topic: 'customers', partition: 1, from: 10n, to: 20n };
  it('keeps every plan event and the chunk or record events that hold the offsets asked about', () => {
    expect(concerns(offset, planEvent('zzzz', 9))).toBe(true);
    expect(concerns(offset, chunkEvent(0, 0, 9, [], []))).toBe(true);
    expect(concerns(offset, chunkEvent(2, 4, 4, [], []))).toBe(true);
    expect(concerns(offset, chunkEvent(0, 5, 9, [], []))).toBe(false);
    expect(concerns(offset, recordEvent(4))).toBe(false); // another topic
    expect(concerns(range, chunkEvent(1, 20, 30, [], []))).toBe(true);
    expect(concerns(range, chunkEvent(0, 10, 20, [], []))).toBe(false); // another partition
    expect(concerns(range, chunkEvent(1, 0, 9, [], []))).toBe(false);
  });
});

describe('what masker audit answers for one offset', () => {
  it('names the plan, policy version, schema ids and key id of a masked record, in every partition holding the offset', () => {
    const answer = answerOffset(index, 'customers', 2n);
    expect(offsetExitCode(answer)).toBe(0);
    expect(answer.partitions.map((p) => [p.partition, p.status])).toEqual([[0, 'found'], [1, 'found']]);
    const text = renderOffsetText(answer);
    expect(text).toContain('customers/0@2: masked\n');
    expect(text).toContain('  plan         aaaa\n');
    expect(text).toContain('  policy       customers-pii version 1\n');
    expect(text).toContain('  value schema 11 → 21\n');
    expect(text).toContain('  key schema   10 → 20\n');
    expect(text).toContain('  key id       k2026\n');
    expect(text).toContain('  audited by   chunk customers:0:0-9 at 2026-11-28T12:00:00.000Z\n');
    expect(text).toContain('customers/1@2: masked\n');
  });

  it('gives the error of a quarantined record, and the policy of the run after it', () => {
    const q = renderOffsetText(answerOffset(index, 'customers', 4n, [0]));
    expect(q).toContain('customers/0@4: quarantined\n');
    expect(q).toContain('  error        MASKER_UNTAGGED_PII: customers/0@4: untagged PII in value.note (detectors: email)\n');
    expect(q).not.toContain('plan ');
    const next = renderOffsetText(answerOffset(index, 'customers', 5n, [0]));
    expect(next).toContain('  policy       customers-pii version 2\n');
    expect(next).toContain('  disabled     notes\n');
  });

  it('says so, and exits 1, when no event covers the offset', () => {
    const answer = answerOffset(index, 'customers', 10n, [0]);
    expect(renderOffsetText(answer)).toBe('no audit event covers customers/0@10\n');
    expect(offsetExitCode(answer)).toBe(1);
    const unknown = answerOffset(index, 'payments', 0n);
    expect(renderOffsetText(unknown)).toBe('no audit event covers payments@0 (no event of the audit topic names this source topic: is it the source of a route auditing to this topic?)\n');
    expect(offsetExitCode(unknown)).toBe(1);
    // Covered in partition 0 only: partition 1 says it has nothing, the answer is still found.
    const partly = answerOffset(index, 'customers', 7n);
    expect(renderOffsetText(partly)).toContain('no audit event covers customers/1@7\n');
    expect(offsetExitCode(partly)).toBe(0);
  });

  it('answers from v1 record events too', () => {
    const text = renderOffsetText(answerOffset(index, 'orders', 0n));
    expect(text).toContain('orders/0@0: masked\n');
    expect(text).toContain('  policy       orders-pii version 7\n');
    expect(text).toContain('  disabled     phones\n');
    expect(text).toContain('  fields       1 decision(s) (--json lists them)\n');
    expect(text).toContain('  audited by   record orders:0:0');
    expect(renderOffsetText(answerOffset(index, 'orders', 1n))).toContain('  error        MASKER_RECORD_TOO_LARGE: ');
  });

  it('tells an offset that is no record, a plan event not read, and two chunks holding one offset', () => {
    const marker = indexOf([chunkEvent(0, 0, 3, [run('aaaa', 0, 1), run('aaaa', 3, 3)], [])]);
    const answer = answerOffset(marker, 'customers', 2n);
    expect(renderOffsetText(answer)).toContain('customers/0@2: not a record — chunk customers:0:0-3');
    expect(offsetExitCode(answer)).toBe(0);
    expect(renderOffsetText(answerOffset(marker, 'customers', 1n))).toContain('  plan         aaaa (its plan event was not read: removed by retention?)\n');
    const twice = indexOf([chunkEvent(0, 0, 3, [run('aaaa', 0, 3)], []), chunkEvent(0, 2, 5, [run('aaaa', 2, 5)], [])]);
    expect(renderOffsetText(answerOffset(twice, 'customers', 2n))).toContain('WARNING      2 events of one audit run hold this offset (customers:0:0-3, customers:0:2-5)');
  });

  it('tells a replayed offset apart from a broken audit: the workers\' answer first, each replay run after it', () => {
    const replayed = indexOf([
      planEvent('aaaa', 1), planEvent('bbbb', 2),
      chunkEvent(0, 0, 3, [run('aaaa', 0, 3)], []),
      chunkEvent(0, 2, 5, [run('bbbb', 2, 5)], [], { group: 'masker-replay-r1', replayed: true, time: '2026-11-29T08:00:00.000Z' }),
    ]);
    const text = renderOffsetText(answerOffset(replayed, 'customers', 2n));
    expect(text).toContain('  policy       customers-pii version 1\n');
    expect(text).toContain('  replayed     masked, plan bbbb, policy customers-pii version 2 — chunk customers:0:2-5 at 2026-11-29T08:00:00.000Z (group masker-replay-r1)\n');
    expect(text).not.toContain('WARNING');
    const range = renderRangeText(answerRange(replayed, 'customers', 0n, 5n));
    expect(range).toContain('customers/0 offsets 0..5 (group masker): 4 record(s) audited by 1 event(s)\n');
    expect(range).toContain('customers/0 offsets 0..5 (replay run masker-replay-r1): 4 record(s) audited by 1 event(s)\n');
  });

  it('shows a key-only plan (a tombstone whose key was masked) without a value schema', () => {
    const keyOnly = indexOf([
      planEvent('kkkk', 1, { schemaId: { source: null, target: null } }),
      chunkEvent(0, 0, 0, [run('kkkk', 0, 0)], [{ offset: '0', outcome: 'tombstone' }]),
    ]);
    const text = renderOffsetText(answerOffset(keyOnly, 'customers', 0n));
    expect(text).toContain('customers/0@0: tombstone\n');
    expect(text).toContain('  value schema none (no value: a tombstone)\n');
    expect(text).toContain('  key schema   10 → 20\n');
    expect(renderRangeText(answerRange(keyOnly, 'customers', 0n, 0n))).toContain('  outcomes     masked 0, quarantined 0, tombstone 1\n');
  });

  it('gives the same answer as JSON, with the plan\'s field decisions', () => {
    const json = JSON.parse(renderJson(answerOffset(index, 'customers', 2n, [0]))) as Record<string, unknown>;
    expect(json).toMatchObject({
      kind: 'offset', topic: 'customers', offset: '2',
      partitions: [{ partition: 0, status: 'found', planEventMissing: false, record: {
        outcome: 'masked', planHash: 'aaaa', policy: { version: 1 }, keyId: 'k2026', fields: [{ path: 'email' }, { path: 'key:id' }],
      } }],
    });
  });
});

describe('what masker audit answers for a range', () => {
  it('counts outcomes, lists the plans with policy versions and each quarantined offset with its code', () => {
    const answer = answerRange(index, 'customers', 0n, 12n, [0]);
    const text = renderRangeText(answer);
    expect(text).toContain('customers/0 offsets 0..12 (group masker): 10 record(s) audited by 1 event(s)\n');
    expect(text).toContain('  outcomes     masked 9, quarantined 1, tombstone 0\n');
    expect(text).toContain('  plan         aaaa  customers-pii version 1 (sha256 111111111111…), value schema 11 → 21\n');
    expect(text).toContain('  plan         bbbb  customers-pii version 2 (sha256 dddddddddddd…, disabled: notes), value schema 11 → 21\n');
    expect(text).toContain('  quarantined  4  MASKER_UNTAGGED_PII: ');
    expect(text).toContain('  no event     10..12 (');
  });

  it('says "none" for a clean range, per partition', () => {
    const text = renderRangeText(answerRange(index, 'customers', 0n, 2n));
    expect(text).toContain('customers/0 offsets 0..2 (group masker): 3 record(s)');
    expect(text).toContain('customers/1 offsets 0..2 (group masker): 3 record(s)');
    expect(text.match(/ {2}quarantined {2}none\n/g)).toHaveLength(2);
    expect(renderRangeText(answerRange(index, 'payments', 0n, 2n))).toBe('no audit event covers payments offsets 0..2 (no event of the audit topic names this source topic: is it the source of a route auditing to this topic?)\n');
  });

  it('answers from v1 record events, and as JSON', () => {
    const answer = answerRange(index, 'orders', 0n, 1n);
    expect(renderRangeText(answer)).toContain('  quarantined  1  MASKER_RECORD_TOO_LARGE: ');
    expect(JSON.parse(renderJson(answer))).toMatchObject({
      kind: 'range', from: '0', to: '1',
      partitions: [{ partition: 0, events: 2, outcomes: { masked: 1, quarantined: 1, tombstone: 0 }, quarantined: [{ offset: '1', code: 'MASKER_RECORD_TOO_LARGE' }], uncovered: [] }],
    });
  });
});

describe('what masker audit says about the audit topic it read', () => {
  it('counts malformed messages by problem without showing what they held', () => {
    expect(problemKind('unknown schema "jane@example.com"')).toBe('unknown schema');
    expect(problemKind('unknown type {"ssn":"123"}')).toBe('unknown type');
    expect(problemKind('chunk event without plans')).toBe('chunk event without plans');
    const skipped = new Map([['not JSON', { count: 3, partition: 0, offset: '17' }]]);
    expect(readNotes('masker.audit', { messages: 10, skipped, idle: false })).toEqual([
      'skipped 3 message(s) of masker.audit that are not audit events: not JSON (first at partition 0 offset 17)',
    ]);
    expect(readNotes('customers', { messages: 3, skipped, idle: true })).toEqual([
      'skipped 3 message(s) of customers that are not audit events: not JSON (first at partition 0 offset 17)',
      'none of the 3 message(s) of customers is an audit event: is it the audit topic?',
      expect.stringContaining('stopped waiting for the end offsets'),
    ]);
  });
});
