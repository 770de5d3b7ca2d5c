/**
 * Scrub quality: how often `scrub` misses PII in free text, and how often it replaces text that holds none.
 * Reuses the generators and the leak oracle of the scrub properties (test/property/pii-generators.ts,
 * pii-glue.ts, scrub-oracle.ts, false-positive-corpus.ts) through the real engine, so its rates and the
 * properties' verdicts agree.
 *
 *   npm run bench:scrub                    # 3000 notes, 300 PII-free notes per corpus category
 *   npm run bench:scrub -- 10000           # more notes
 *   npm run bench:scrub -- 5000 --shapes   # also the miss rate of every value layout (kind/shape)
 *   BENCH_SEED=7 npm run bench:scrub       # another (fixed) sample; the default seed is 1
 *
 * Miss rate: notes in which some embedded value leaked (an 8-character window with ≥ 5 digits or an `@`,
 * or its digits-only form; see scrub-oracle.ts), per kind (notes holding that kind, counting its values
 * only), per glue class and overall; `replace: tag` on records and `replace: pseudonym` on Avro bytes.
 * False positives: PII-free notes in which anything was replaced, per corpus category; ambiguous
 * categories (items that are valid PII by the documented rules) are marked and kept out of the total.
 * Samples are drawn without fast-check's bias towards small values, so the rates describe typical values.
 */
import fc from 'fast-check';
import type { DetectorName } from '../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../src/masking/index.js';
import { falsePositiveRate, measureFalsePositives } from '../../test/property/false-positive-corpus.js';
import type { GlueClass, Note } from '../../test/property/pii-glue.js';
import { GLUE_CLASSES, noteArb, noteText, noteValues } from '../../test/property/pii-glue.js';
import type { ReplaceMode, Scrubber } from '../../test/property/scrub-oracle.js';
import { findLeaks, noteScrubber } from '../../test/property/scrub-oracle.js';

const args = process.argv.slice(2);
const SAMPLES = Number(args.find((a) => /^\d+$/.test(a)) ?? 3000);
const SHAPES = args.includes('--shapes');
const SEED = Number(process.env['BENCH_SEED'] ?? 1);
const FP_PER_CATEGORY = Math.max(300, Math.round(SAMPLES / 10));

interface Tally {
  total: number;
  missed: number;
}

const tally = (): Tally => ({ total: 0, missed: 0 });
const count = (t: Tally, missed: boolean): void => {
  t.total++;
  if (missed) t.missed++;
};
const rate = (t: Tally | undefined): string => (t === undefined || t.total === 0 ? '-' : `${((100 * t.missed) / t.total).toFixed(1)}%`);

interface Misses {
  readonly all: Tally;
  readonly byKind: Map<DetectorName, Tally>;
  readonly byGlue: Map<GlueClass, Tally>;
  /** Values (not notes) by kind/shape. */
  readonly byShape: Map<string, Tally>;
}

function measureMisses(notes: readonly Note[], scrub: Scrubber, mode: ReplaceMode): Misses {
  const m: Misses = { all: tally(), byKind: new Map(), byGlue: new Map(), byShape: new Map() };
  const at = <K>(map: Map<K, Tally>, key: K): Tally => map.get(key) ?? map.set(key, tally()).get(key)!;
  for (const note of notes) {
    const leaks = findLeaks(note, scrub(noteText(note)), mode);
    const leaked = new Set(leaks.map((l) => l.value));
    count(m.all, leaks.length > 0);
    count(at(m.byGlue, note.glue), leaks.length > 0);
    const values = noteValues(note);
    for (const kind of new Set(values.map((v) => v.kind))) count(at(m.byKind, kind), leaks.some((l) => l.value.kind === kind));
    for (const v of values) count(at(m.byShape, `${v.kind}/${v.shape}`), leaked.has(v));
  }
  return m;
}

function table(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${title}\n${line(header)}\n${rows.map(line).join('\n')}\n`);
}

const started = performance.now();
const notes = fc.sample(noteArb(), { numRuns: SAMPLES, seed: SEED, unbiased: true });
const tag = measureMisses(notes, noteScrubber('tag', 'record'), 'tag');
const pseudonym = measureMisses(notes, noteScrubber('pseudonym', 'encoded'), 'pseudonym');

process.stdout.write(`scrub quality: ${SAMPLES} notes with 1-4 embedded values (seed ${SEED})\n`);
const kindRows = DETECTOR_NAMES.map((k) => [k, String(tag.byKind.get(k)?.total ?? 0), rate(tag.byKind.get(k)), rate(pseudonym.byKind.get(k))]);
table('miss rate by kind (notes holding the kind in which one of its values leaked)', ['kind', 'notes', 'tag', 'pseudonym'],
  [...kindRows, ['any', String(tag.all.total), rate(tag.all), rate(pseudonym.all)]]);
table('miss rate by glue class (notes in which any value leaked)', ['glue', 'notes', 'tag', 'pseudonym'],
  GLUE_CLASSES.map((g) => [g, String(tag.byGlue.get(g)?.total ?? 0), rate(tag.byGlue.get(g)), rate(pseudonym.byGlue.get(g))]));
if (SHAPES) {
  const shapes = [...tag.byShape.entries()].sort(([a, x], [b, y]) => y.missed / y.total - x.missed / x.total || a.localeCompare(b));
  table('miss rate by value layout (values that leaked)', ['kind/shape', 'values', 'tag', 'pseudonym'],
    shapes.map(([s, t]) => [s, String(t.total), rate(t), rate(pseudonym.byShape.get(s))]));
}

const fp = measureFalsePositives(noteScrubber('tag', 'record'), FP_PER_CATEGORY, SEED);
table(`false positives (PII-free notes in which anything was replaced; ${FP_PER_CATEGORY} per category)`, ['category', 'rate'],
  [
    ...fp.map((r) => [`${r.category}${r.ambiguous ? ' (ambiguous)' : ''}`, rate({ total: r.samples, missed: r.flagged })]),
    ['all unambiguous', `${(100 * falsePositiveRate(fp.filter((r) => !r.ambiguous))).toFixed(1)}%`],
  ]);
process.stdout.write(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
