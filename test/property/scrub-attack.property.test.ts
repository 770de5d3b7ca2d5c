import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { DetectorName } from '../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../src/masking/index.js';
import type { Note } from './pii-glue.js';
import { noteArb, noteText } from './pii-glue.js';
import type { ReplaceMode, Scrubber } from './scrub-oracle.js';
import { describeLeaks, findLeaks, noteScrubber } from './scrub-oracle.js';

/**
 * Attacks `scrub` with the PII real notes hide, in the glue real notes have (pii-generators.ts,
 * pii-glue.ts), through the engine: a one-field `Note` schema, one rule scrubbing `note` with every detector. The property
 * (scrub-oracle.ts): no 8-character window of an embedded value holding ≥ 5 digits or an `@` (IPv6:
 * ≥ 5 hex digits) survives, nor its digits-only form when it has ≥ 7 digits, unless the glue alone holds
 * it or (with pseudonyms) it lies inside a generated pseudonym.
 *
 * One property per detector (values of that kind, checked alone; other kinds appear as neighbours in the
 * cross-kind glue) says which kind leaks; the mixed property checks every value of notes of any kinds.
 * `replace: tag` runs on decoded records (maskRecord), `replace: pseudonym` on Avro bytes (maskEncoded).
 * Raise MASKER_PROPERTY_RUNS for a deeper search; a failure prints its seed and a shrunk note.
 */

const RUNS = Number(process.env['MASKER_PROPERTY_RUNS'] ?? 300);

function assertNoLeak(scrub: Scrubber, mode: ReplaceMode, notes: fc.Arbitrary<Note>, runs: number, kind?: DetectorName): void {
  fc.assert(fc.property(notes, (note) => {
    const output = scrub(noteText(note));
    const leaks = findLeaks(note, output, mode, kind);
    if (leaks.length > 0) throw new Error(describeLeaks(note, output, leaks));
  }), { numRuns: runs });
}

describe.each([['tag', 'record'], ['pseudonym', 'encoded']] as const)('scrub under attack (replace: %s, %s path)', (mode, path) => {
  const scrub = noteScrubber(mode, path);

  it.each(DETECTOR_NAMES)('leaves no %s in any glue', (kind) => {
    assertNoLeak(scrub, mode, noteArb(kind), RUNS, kind);
  });

  it('leaves no PII of any kind when kinds mix', () => {
    assertNoLeak(scrub, mode, noteArb(), Math.round(RUNS * 5 / 3));
  });
});
