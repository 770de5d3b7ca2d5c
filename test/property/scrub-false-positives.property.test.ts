import { describe, expect, it } from 'vitest';
import type { FalsePositiveRow } from './false-positive-corpus.js';
import { falsePositiveRate, measureFalsePositives } from './false-positive-corpus.js';
import { noteScrubber } from './scrub-oracle.js';

/**
 * How often `scrub` replaces something in notes that hold no PII (false-positive-corpus.ts): dates,
 * times, amounts, order numbers, UUIDs, versions, hashes, percentages, MAC addresses, measurements, prose.
 *
 * Detection is heuristic, so the ceiling is generous: under 5% of the unambiguous samples may be touched
 * at all. Ambiguous categories (items that are valid PII by the documented rules, e.g. a 4-part version
 * that is a valid IPv4 address) are measured but carry no ceiling; bench/scrub/scrub-quality.ts prints
 * every category's rate. The corpus is fixed by its seed (MASKER_FP_SEED), so a run is reproducible.
 */

const SAMPLES_PER_CATEGORY = Number(process.env['MASKER_FP_SAMPLES'] ?? 200);
const SEED = Number(process.env['MASKER_FP_SEED'] ?? 20_240_301);
const CEILING = 0.05;

function table(rows: readonly FalsePositiveRow[]): string {
  return rows.map((r) => `  ${r.category}${r.ambiguous ? ' (ambiguous)' : ''}: ${r.flagged}/${r.samples}${r.example === undefined ? '' : ` e.g. ${JSON.stringify(r.example.input)} -> ${JSON.stringify(r.example.output)}`}`).join('\n');
}

describe('scrub false positives', () => {
  it(`touches under ${CEILING * 100}% of PII-free notes (unambiguous categories)`, () => {
    const rows = measureFalsePositives(noteScrubber('tag'), SAMPLES_PER_CATEGORY, SEED);
    const rate = falsePositiveRate(rows.filter((r) => !r.ambiguous));
    expect(rate, `false-positive rate ${(rate * 100).toFixed(1)}%:\n${table(rows)}`).toBeLessThan(CEILING);
  });
});
