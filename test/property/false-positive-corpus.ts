import fc from 'fast-check';

/**
 * Text that holds NO PII, by category, for measuring how often `scrub` replaces something it should not
 * (scrub-false-positives.property.test.ts, bench/scrub/scrub-quality.ts). Each sample is a short note
 * with 1-3 items of one category in prose.
 *
 * Some categories are genuinely ambiguous: their items are also valid PII by the documented detector
 * rules (a 4-part version such as `10.4.12.1` IS a valid IPv4 address; a bare 10-digit number is a phone
 * by the "10-15 digits without separators" rule; an ISBN-13 with dashes, or an order number such as
 * `ORD-2024-000123`, is 7-15 digits with separators).
 * They stay in the corpus, marked `ambiguous`, and are reported apart: no ceiling applies to them.
 */

export interface FalsePositiveCategory {
  readonly name: string;
  /** True when the items are also valid PII by the documented detector rules (see `why`). */
  readonly ambiguous: boolean;
  readonly why?: string;
  readonly item: fc.Arbitrary<string>;
}

const pick = <T>(items: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...items);
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const hexChars = '0123456789abcdef'.split('');
const hex = (min: number, max = min): fc.Arbitrary<string> => fc.string({ unit: pick(hexChars), minLength: min, maxLength: max });
const digits = (min: number, max = min): fc.Arbitrary<string> => fc.string({ unit: pick('0123456789'.split('')), minLength: min, maxLength: max });

const date = fc.record({ y: int(1990, 2035), m: int(1, 12), d: int(1, 28) });
const clock = fc.record({ h: int(0, 23), mi: int(0, 59), s: int(0, 59), ms: int(0, 999) });
const iso = ({ y, m, d }: { y: number; m: number; d: number }): string => `${y}-${pad(m)}-${pad(d)}`;

/** `1,234,567.89`-style grouping of an integer part. */
const grouped = (n: number, sep: string): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep);

export const FP_CATEGORIES: readonly FalsePositiveCategory[] = [
  { name: 'prose', ambiguous: false, item: pick(['nothing to report', 'the customer was happy', 'follow up next week', 'see attached']) },
  { name: 'iso-date', ambiguous: false, item: date.map(iso) },
  {
    name: 'iso-datetime', ambiguous: false,
    item: fc.tuple(date, clock, pick(['Z', '+02:00', '-05:00', '.mmmZ', '', ' UTC']), pick(['T', ' '])).map(([d, c, zone, sep]) =>
      `${iso(d)}${sep}${pad(c.h)}:${pad(c.mi)}:${pad(c.s)}${zone.replace('mmm', pad(c.ms, 3))}`),
  },
  {
    name: 'eu-date', ambiguous: false,
    item: fc.tuple(date, pick(['.', '/', '-']), fc.boolean()).map(([{ y, m, d }, sep, padded]) =>
      padded ? `${pad(d)}${sep}${pad(m)}${sep}${y}` : `${d}${sep}${m}${sep}${y}`),
  },
  {
    name: 'us-date', ambiguous: false,
    item: fc.tuple(date, fc.boolean()).map(([{ y, m, d }, short]) => (short ? `${m}/${d}/${pad(y % 100)}` : `${pad(m)}/${pad(d)}/${y}`)),
  },
  {
    name: 'date-range', ambiguous: false,
    item: fc.tuple(date, int(1, 27), pick([' - ', ' – ', '–', ' to ', '/'])).map(([d, days, sep]) =>
      `${iso(d)}${sep}${iso({ ...d, d: Math.min(28, d.d + days) })}`),
  },
  {
    name: 'time', ambiguous: false,
    item: fc.tuple(clock, int(0, 4)).map(([c, form]) =>
      [`${pad(c.h)}:${pad(c.mi)}`, `${pad(c.h)}:${pad(c.mi)}:${pad(c.s)}`, `${pad(c.h)}:${pad(c.mi)}:${pad(c.s)}.${pad(c.ms, 3)}`,
        `${1 + (c.h % 12)}:${pad(c.mi)} ${c.h < 12 ? 'am' : 'pm'}`, `${pad(c.h)}:${pad(c.mi)}-${pad((c.h + 1) % 24)}:${pad(c.mi)}`][form]!),
  },
  {
    name: 'amount', ambiguous: false,
    item: fc.tuple(fc.oneof(int(0, 99), int(100, 9999), int(10_000, 9_999_999)), int(0, 99), int(0, 7)).map(([whole, cents, form]) =>
      [`$${grouped(whole, ',')}.${pad(cents)}`, `${whole}.${pad(cents)} EUR`, `${whole % 1000}.${pad(cents)}`, `€ ${grouped(whole, '.')},${pad(cents)}`,
        `-${whole % 10000}.${pad(cents)}`, `USD ${grouped(whole, ',')}.00`, `£${whole % 100}.${pad(cents)}`, `${grouped(whole, ' ')},${pad(cents)} €`][form]!),
  },
  {
    name: 'order-number', ambiguous: false,
    item: fc.tuple(digits(6), digits(8), fc.string({ unit: pick('ABCDEFGHJKLMNPQRSTUVWXYZ'.split('')), minLength: 1, maxLength: 2 }), int(0, 4)).map(([six, eight, letters, form]) =>
      [`INV-${eight}`, `#${letters}${six}${eight.slice(0, 1)}`, `RMA-${six.slice(0, 5)}`, `Ticket #${six.slice(0, 5)}`, `${letters}-${six}`][form]!),
  },
  {
    name: 'order-number-dated', ambiguous: true,
    why: 'a year and a serial joined by a dash or slash (ORD-2024-000123) are 7-15 digits with separators: a phone by the documented rule',
    item: fc.tuple(int(2015, 2030), digits(6), int(0, 2)).map(([y, six, form]) => [`ORD-${y}-${six}`, `SO-${y}/${six.slice(0, 4)}`, `PO ${y}-${six.slice(0, 5)}`][form]!),
  },
  {
    name: 'uuid', ambiguous: false,
    item: fc.tuple(fc.uuid(), fc.boolean()).map(([u, upper]) => (upper ? u.toUpperCase() : u)),
  },
  {
    name: 'version', ambiguous: false,
    item: fc.tuple(int(0, 30), int(0, 40), int(0, 99), int(1, 9), int(0, 4)).map(([a, b, c, n, form]) =>
      [`${a}.${b}.${c}`, `v${a}.${b}.${c}`, `${a}.${b}.${c}-rc.${n}`, `${a}.${b}`, `${a}.${b}.${c}+build.${n}`][form]!),
  },
  { name: 'git-hash', ambiguous: false, item: fc.oneof(hex(7), hex(8, 12), hex(40)) },
  {
    name: 'percentage', ambiguous: false,
    item: fc.tuple(int(0, 100), int(0, 99), int(0, 3)).map(([a, b, form]) => [`${a}%`, `${a}.${b}%`, `+${a % 10}.${b} %`, `-0.${pad(b)}%`][form]!),
  },
  {
    name: 'mac-address', ambiguous: false,
    item: fc.tuple(fc.array(hex(2), { minLength: 6, maxLength: 6 }), pick([':', '-']), fc.boolean()).map(([bytes, sep, upper]) => {
      const mac = bytes.join(sep);
      return upper ? mac.toUpperCase() : mac;
    }),
  },
  {
    name: 'measurement', ambiguous: false,
    item: fc.tuple(int(1, 4000), int(1, 3000), int(0, 5)).map(([a, b, form]) =>
      [`${a}x${b}`, `${a % 200} kg`, `${a % 100}.${b % 10} mm`, `${a % 40}°C`, `${a % 300} km/h`, `${a % 10} x ${b % 1000} ml`][form]!),
  },
  {
    name: 'version-4part', ambiguous: true, why: 'a dotted quad of numbers 0-255 is a valid IPv4 address',
    item: fc.tuple(int(0, 30), int(0, 40), int(0, 99), int(0, 255)).map(([a, b, c, d]) => `${a}.${b}.${c}.${d}`),
  },
  {
    name: 'long-number', ambiguous: true, why: 'a bare 10-15-digit number is a phone by the documented rule',
    item: fc.tuple(digits(8), int(1_500_000_000, 1_900_000_000), digits(3), int(0, 2)).map(([eight, ts, ms, form]) =>
      [`PO 45${eight}`, `${ts}`, `${ts}${ms}`][form]!),
  },
  {
    name: 'isbn', ambiguous: true, why: '13 digits with separators is a phone by the documented rule',
    item: fc.tuple(pick(['978', '979']), int(0, 9), digits(2), digits(6), int(0, 9)).map(([p, g, pub, title, check]) => `${p}-${g}-${pub}-${title}-${check}`),
  },
];

const WORDS = ['the', 'order', 'was', 'updated', 'on', 'see', 'release', 'build', 'total', 'paid', 'at', 'from', 'until', 'ref', 'deploy', 'commit', 'note', 'ok'];
const prose = fc.array(pick(WORDS), { minLength: 1, maxLength: 6 }).map((w) => w.join(' '));

/** A note of 1-3 items of a category, in prose, sometimes followed by punctuation. */
export function falsePositiveSample(category: FalsePositiveCategory): fc.Arbitrary<string> {
  return fc
    .tuple(prose, fc.array(fc.tuple(category.item, pick(['', '', ',', '.', ';', ')']), prose), { minLength: 1, maxLength: 3 }))
    .map(([head, items]) => [head, ...items.map(([item, punct, tail]) => `${item}${punct} ${tail}`)].join(' '));
}

export interface FalsePositiveRow {
  readonly category: string;
  readonly ambiguous: boolean;
  readonly samples: number;
  /** Samples in which the scrubber replaced anything. */
  readonly flagged: number;
  /** One flagged sample and its output, for the report. */
  readonly example?: { readonly input: string; readonly output: string };
}

/** Scrubs `samples` notes of every category (fixed `seed`: the same corpus every run). */
export function measureFalsePositives(scrub: (text: string) => string, samples: number, seed: number): FalsePositiveRow[] {
  return FP_CATEGORIES.map((category, i) => {
    let flagged = 0;
    let example: FalsePositiveRow['example'];
    for (const input of fc.sample(falsePositiveSample(category), { numRuns: samples, seed: seed + i, unbiased: true })) {
      const output = scrub(input);
      if (output === input) continue;
      flagged++;
      example ??= { input, output };
    }
    return { category: category.name, ambiguous: category.ambiguous, samples, flagged, ...(example === undefined ? {} : { example }) };
  });
}

/** Flagged / samples over the rows. */
export const falsePositiveRate = (rows: readonly FalsePositiveRow[]): number =>
  rows.reduce((n, r) => n + r.flagged, 0) / Math.max(1, rows.reduce((n, r) => n + r.samples, 0));
