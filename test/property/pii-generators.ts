import fc from 'fast-check';
import { ibanCheckDigits, luhnCheckDigit } from '../../src/masking/formats/checksums.js';
import type { DetectorName } from '../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../src/masking/index.js';

/**
 * Generators of the PII that free text hides, for attacking `scrub` (test/property/scrub-attack.property
 * .test.ts, bench/scrub/scrub-quality.ts). Every value is VALID for its kind (Luhn, mod-97, never-issued
 * SSN areas excluded, 7-15 phone digits, parseable IPv6) and is built for the class, not copied from an
 * example: each `shape` names the layout it exercises, so a miss report says which layout leaks. The glue
 * that hides them is pii-glue.ts.
 */

export interface PiiValue {
  readonly kind: DetectorName;
  /** The layout this value exercises, e.g. `uk-trunk-paren`, `grouped-lower`, `compressed-start`. */
  readonly shape: string;
  readonly value: string;
}

const DIGITS = '0123456789'.split('');
const digit = fc.constantFrom(...DIGITS);
const digitString = (min: number, max = min): fc.Arbitrary<string> => fc.string({ unit: digit, minLength: min, maxLength: max });
const pick = <T>(items: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...items);
const pii = (kind: DetectorName, shape: string, value: string): PiiValue => ({ kind, shape, value });

// ---------------------------------------------------------------------------------------------- email

const FIRST = ['jane', 'john', 'mary', 'li', 'ahmed', 'x', 'anne', 'bob', 'sam', 'chris', 'kim', 'alex', 'maria', 'lee', 'j', 'dev'];
const LAST = ['doe', 'smith', 'nguyen', 'garcia', 'okafor', 'kowalski', 'tanaka', 'berg', 'rossi', 'ivanova'];
const ROLE = ['support', 'info', 'noreply', 'billing', 'hr', 'team'];
const APOSTROPHE_LOCAL = ["o'brien", "d'angelo", "o'neil", "d'arcy", "mc'kay", "o'reilly"];
const UNICODE_LOCAL = ['josé', 'ünal', 'Ünal', 'zoë', 'søren', 'françois', 'müller', 'łukasz', 'björk', 'çelik', 'αλέξης', '用户', 'наталья', 'renée.dupont', 'jürgen.groß'];
const LABELS = ['acme', 'example', 'mail', 'corp', 'bigco', 'a1', 'x-y', 'mail-01', 'gmail', 'outlook', 'shop', 'eu', 'us', 'dept', 'intra', 'web-2'];
const NUMERIC_LABELS = ['123', '42', '2024', '7', '365', '911', '0'];
const IDN_LABELS = ['münchen', '例え', 'bücher', 'straße', 'café', 'köln', 'zürich', 'españa', 'δοκιμή', 'пример', '中国', 'ñandú', 'größe'];
const TLDS = ['com', 'org', 'net', 'de', 'ie', 'jp', 'co.uk', 'io', 'info', 'museum', 'fr', 'ch', 'com.au', 'travel', 'dev'];
const IDN_TLDS = ['рф', '中国', 'みんな', 'ελ', 'de', 'jp'];

const localBase = fc
  .tuple(pick(FIRST), fc.option(pick(LAST), { nil: undefined }), pick(['.', '_', '-', '']), fc.option(digitString(1, 4), { nil: undefined }))
  .map(([first, last, sep, num]) => `${first}${last === undefined ? '' : sep + last}${num ?? ''}`);
const domainBase = fc
  .tuple(fc.array(pick(LABELS), { maxLength: 1 }), pick(LABELS), pick(TLDS))
  .map(([sub, label, tld]) => [...sub, label, tld].join('.'));

type Casing = 'upper' | 'title' | 'mixed';
function recase(text: string, casing: Casing, bits: readonly boolean[]): string {
  if (casing === 'upper') return text.toUpperCase();
  if (casing === 'title') return text.replace(/(^|[^\p{L}])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
  let i = 0;
  return [...text].map((c) => (bits[i++ % bits.length] === true ? c.toUpperCase() : c.toLowerCase())).join('');
}

const EMAIL_SHAPES: readonly (readonly [string, fc.Arbitrary<string>])[] = [
  ['plain', fc.tuple(localBase, domainBase).map(([l, d]) => `${l}@${d}`)],
  ['plus-tag', fc.tuple(localBase, pick(['news', 'tag', 'x', 'billing2024', 'a.b', 'spam-filter']), domainBase).map(([l, t, d]) => `${l}+${t}@${d}`)],
  ['dots', fc.tuple(pick(FIRST), pick(FIRST), pick(LAST), domainBase).map(([a, b, c, d]) => `${a}.${b}.${c}@${d}`)],
  ['apostrophe', fc.tuple(pick(APOSTROPHE_LOCAL), fc.option(pick(FIRST), { nil: undefined }), domainBase).map(([l, f, d]) => `${f === undefined ? '' : `${f}.`}${l}@${d}`)],
  ['role', fc.tuple(pick(ROLE), domainBase).map(([l, d]) => `${l}@${d}`)],
  ['idn-domain', fc.tuple(localBase, fc.array(pick(LABELS), { maxLength: 1 }), pick(IDN_LABELS), pick([...TLDS, ...IDN_TLDS])).map(([l, sub, idn, tld]) => `${l}@${[...sub, idn, tld].join('.')}`)],
  ['idn-tld', fc.tuple(localBase, pick(IDN_LABELS), pick(IDN_TLDS)).map(([l, idn, tld]) => `${l}@${idn}.${tld}`)],
  ['unicode-local', fc.tuple(pick(UNICODE_LOCAL), fc.option(digitString(1, 3), { nil: undefined }), fc.oneof(domainBase, fc.tuple(pick(IDN_LABELS), pick(TLDS)).map((p) => p.join('.')))).map(([l, n, d]) => `${l}${n ?? ''}@${d}`)],
  ['subdomain', fc.tuple(localBase, fc.array(pick(LABELS), { minLength: 2, maxLength: 4 }), pick(TLDS)).map(([l, labels, tld]) => `${l}@${[...labels, tld].join('.')}`)],
  ['numeric-label', fc.tuple(localBase, pick(NUMERIC_LABELS), pick(LABELS), pick(TLDS), fc.boolean()).map(([l, n, label, tld, first]) => `${l}@${first ? `${n}.${label}` : `${label}.${n}.${label}`}.${tld}`)],
  ['digits-local', fc.tuple(digitString(5, 10), fc.option(pick(FIRST), { nil: undefined }), domainBase).map(([n, f, d]) => `${f ?? ''}${n}@${d}`)],
  ['upper-mixed-case', fc.tuple(localBase, domainBase, pick<Casing>(['upper', 'title', 'mixed']), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 })).map(([l, d, c, bits]) => recase(`${l}@${d}`, c, bits))],
];

export const emailArb: fc.Arbitrary<PiiValue> = fc.oneof(...EMAIL_SHAPES.map(([shape, arb]) => arb.map((v) => pii('email', shape, v))));

// ---------------------------------------------------------------------------------------------- phone

/** `X` is any digit, `N` a digit 2-9 (NANP area/exchange, non-zero subscriber starts). */
const PHONE_TEMPLATES: readonly (readonly [string, string])[] = [
  ['us-paren', '(NXX) NXX-XXXX'],
  ['us-paren-tight', '(NXX)NXX-XXXX'],
  ['us-dash', 'NXX-NXX-XXXX'],
  ['us-dot', 'NXX.NXX.XXXX'],
  ['us-space', 'NXX NXX XXXX'],
  ['us-compact', 'NXXNXXXXXX'],
  ['us-local-7', 'NXX-XXXX'],
  ['us-trunk', '1-NXX-NXX-XXXX'],
  ['us-intl', '+1 NXX NXX XXXX'],
  ['us-intl', '+1-NXX-NXX-XXXX'],
  ['us-intl', '+1 (NXX) NXX-XXXX'],
  ['us-intl', '+1.NXX.NXX.XXXX'],
  ['us-intl-compact', '+1NXXNXXXXXX'],
  ['uk', '+44 20 NXXX XXXX'],
  ['uk', '+44 7NXX XXXXXX'],
  ['uk-trunk-paren', '+44 (0)20 NXXX XXXX'],
  ['uk-00', '0044 20 NXXX XXXX'],
  ['uk-national', '020 NXXX XXXX'],
  ['uk-national', '07NXX XXXXXX'],
  ['de', '+49 30 NXXXXXX'],
  ['de', '+49 89 NXXXXXXX'],
  ['de', '+49 15X NXXXXXXX'],
  ['de', '+49-30-NXXXXXX'],
  ['de-00', '0049 30 NXXXXXX'],
  ['de-trunk-paren', '+49 (0)30 NXXXXXX'],
  ['de-national', '030 NXXXXXX'],
  ['fr', '+33 N XX XX XX XX'],
  ['fr', '+33.N.XX.XX.XX.XX'],
  ['fr-trunk-paren', '+33 (0)N XX XX XX XX'],
  ['fr-00', '0033 N XX XX XX XX'],
  ['fr-national', '0N XX XX XX XX'],
  ['intl-other', '+81 3-NXXX-XXXX'],
  ['intl-other', '+91 9XXXX XXXXX'],
  ['intl-other', '+55 11 9XXXX-XXXX'],
  ['intl-other', '+61 2 NXXX XXXX'],
  ['intl-other', '+353 1 NXX XXXX'],
  ['intl-other', '+41 44 NXX XX XX'],
  ['intl-other', '+31 20 NXX XXXX'],
  ['intl-other', '+34 9XX XXX XXX'],
  ['intl-other', '+39 06 NXXX XXXX'],
];

function fillTemplate(template: string, digits: string): string {
  let i = 0;
  return template.replace(/[XN]/g, (c) => {
    const d = digits.charCodeAt(i++ % digits.length) - 48;
    return String(c === 'N' ? 2 + (d % 8) : d);
  });
}

/** Real country calling codes, for numbers in layouts the templates above do not cover. */
const CALLING_CODES = [
  '7', '20', '27', '30', '32', '36', '40', '43', '45', '46', '47', '48', '51', '52', '54', '56', '57', '60', '62',
  '63', '64', '65', '66', '82', '84', '86', '90', '92', '94', '98', '212', '234', '254', '351', '352', '354', '358',
  '380', '420', '421', '852', '886', '961', '966', '971', '972',
];
/** Group sizes of national significant numbers (7-12 digits); none reads as a date. */
const NSN_GROUPS: readonly (readonly number[])[] = [
  [3, 3, 4], [3, 4, 4], [2, 4, 4], [3, 3, 3], [2, 3, 2, 2], [1, 4, 4], [4, 3, 3], [2, 2, 2, 2, 2], [3, 7], [4, 6], [3, 3, 2, 2],
];

/** `+CC` and a national number in one of NSN_GROUPS, with one separator (or none) throughout. */
const genericInternational = fc
  .record({ cc: pick(CALLING_CODES), groups: pick(NSN_GROUPS), digits: digitString(12), sep: pick([' ', '-', '.', '']) })
  .map(({ cc, groups, digits, sep }) => {
    let nsn = `${String(2 + (digits.charCodeAt(0) % 8))}${digits.slice(1)}`.slice(0, Math.min(groups.reduce((a, b) => a + b, 0), 15 - cc.length));
    const parts: string[] = [];
    for (const size of groups) {
      if (nsn.length === 0) break;
      parts.push(nsn.slice(0, size));
      nsn = nsn.slice(size);
    }
    return `+${cc}${sep === '' ? '' : sep === '-' || sep === '.' ? sep : ' '}${parts.join(sep)}`;
  });

export const phoneArb: fc.Arbitrary<PiiValue> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(pick(PHONE_TEMPLATES), digitString(16)).map(([[shape, t], d]) => pii('phone', shape, fillTemplate(t, d))) },
  { weight: 1, arbitrary: genericInternational.map((v) => pii('phone', 'intl-generic', v)) },
);

// ------------------------------------------------------------------------------------------------ ssn

export const ssnArb: fc.Arbitrary<PiiValue> = fc
  .record({
    area: fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666),
    group: fc.integer({ min: 1, max: 99 }),
    serial: fc.integer({ min: 1, max: 9999 }),
    sep: pick(['-', ' ']),
  })
  .map(({ area, group, serial, sep }) =>
    pii('ssn', sep === '-' ? 'dashed' : 'spaced', [String(area).padStart(3, '0'), String(group).padStart(2, '0'), String(serial).padStart(4, '0')].join(sep)));

// ---------------------------------------------------------------------------------------- credit-card

interface CardBrand {
  readonly name: string;
  readonly prefix: (n: number) => string;
  readonly lengths: readonly number[];
}

const CARD_BRANDS: readonly CardBrand[] = [
  { name: 'visa', prefix: () => '4', lengths: [13, 16, 19] },
  { name: 'mastercard', prefix: (n) => (n % 2 === 0 ? String(51 + (n % 5)) : String(2221 + (n % 500))), lengths: [16] },
  { name: 'amex', prefix: (n) => (n % 2 === 0 ? '34' : '37'), lengths: [15] },
  { name: 'discover', prefix: (n) => ['6011', '65', String(644 + (n % 6))][n % 3]!, lengths: [16, 19] },
  { name: 'diners', prefix: (n) => (n % 2 === 0 ? '36' : String(300 + (n % 6))), lengths: [14] },
  { name: 'jcb', prefix: (n) => String(3528 + (n % 62)), lengths: [16] },
  { name: 'unionpay', prefix: () => '62', lengths: [16, 17, 18, 19] },
];

/** Conventional groupings: Amex 4-6-5, Diners 4-6-4, otherwise fours with the rest in the last group. */
function cardGroups(brand: string, length: number): number[] {
  if (brand === 'amex') return [4, 6, 5];
  if (length === 14) return [4, 6, 4];
  if (length === 13) return [4, 4, 5];
  if (length === 19) return [4, 4, 4, 4, 3];
  const groups = [4, 4, 4];
  groups.push(length - 12);
  return groups;
}

export const creditCardArb: fc.Arbitrary<PiiValue> = fc
  .record({
    brand: pick(CARD_BRANDS),
    n: fc.nat(),
    lengthIndex: fc.nat(),
    body: digitString(19),
    layout: pick(['compact', 'spaced', 'dashed'] as const),
  })
  .map(({ brand, n, lengthIndex, body, layout }) => {
    const length = brand.lengths[lengthIndex % brand.lengths.length]!;
    const prefix = brand.prefix(n);
    const payload = prefix + body.slice(0, length - 1 - prefix.length);
    const card = payload + String(luhnCheckDigit(payload));
    if (layout === 'compact') return pii('credit-card', `${brand.name}-${length}-compact`, card);
    const parts: string[] = [];
    let at = 0;
    for (const size of cardGroups(brand.name, length)) {
      parts.push(card.slice(at, at + size));
      at += size;
    }
    return pii('credit-card', `${brand.name}-${length}-${layout}`, parts.join(layout === 'spaced' ? ' ' : '-'));
  });

// ----------------------------------------------------------------------------------------------- iban

/** BBAN layouts (ISO 13616 registry): `n` digits, `a` upper-case letters, `c` alphanumerics. */
export const IBAN_FORMATS: Readonly<Record<string, string>> = {
  DE: '18n', GB: '4a14n', FR: '10n11c2n', NL: '4a10n', ES: '20n', IT: '1a10n12c', CH: '5n12c', BE: '12n',
  AT: '16n', PL: '24n', IE: '4a14n', PT: '21n', SE: '20n', NO: '11n', DK: '14n', FI: '14n', LU: '3n13c',
  MT: '4a5n18c', LI: '5n12c', SA: '2n18c',
};

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function bbanOf(format: string, entropy: readonly number[]): string {
  let out = '';
  let e = 0;
  for (const [, count, type] of format.matchAll(/(\d+)([nac])/g)) {
    for (let i = 0; i < Number(count); i++) {
      const v = entropy[e++ % entropy.length]!;
      out += type === 'n' || (type === 'c' && v < 25) ? String(v % 10) : LETTERS[v % 26]!;
    }
  }
  return out;
}

export const ibanArb: fc.Arbitrary<PiiValue> = fc
  .record({
    country: pick(Object.keys(IBAN_FORMATS)),
    entropy: fc.array(fc.nat(35), { minLength: 30, maxLength: 30 }),
    layout: pick(['compact', 'grouped'] as const),
    casing: fc.constantFrom<'upper' | 'lower' | 'mixed'>('upper', 'upper', 'lower', 'mixed'),
    bits: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
  })
  .map(({ country, entropy, layout, casing, bits }) => {
    const bban = bbanOf(IBAN_FORMATS[country]!, entropy);
    let iban = `${country}${ibanCheckDigits(country, bban)}${bban}`;
    if (casing === 'lower') iban = iban.toLowerCase();
    if (casing === 'mixed') iban = [...iban].map((c, i) => (bits[i % bits.length] === true ? c.toLowerCase() : c)).join('');
    if (layout === 'grouped') iban = iban.replace(/(.{4})(?=.)/g, '$1 ');
    return pii('iban', `${layout}-${casing}`, iban);
  });

// ----------------------------------------------------------------------------------------------- ipv4

const octet = fc.nat(255);
export const ipv4Arb: fc.Arbitrary<PiiValue> = fc
  .tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet)
  .map((o) => pii('ipv4', 'dotted-quad', o.join('.')));

// ----------------------------------------------------------------------------------------------- ipv6

const IPV6_FORMS = [
  'full', 'full-padded', 'compressed-start', 'compressed-middle', 'compressed-end', 'ipv4-mapped', 'nat64',
  'ipv4-embedded', 'zone',
] as const;
const ZONES = ['eth0', 'en0', 'wlan0', '1', 'lo0', 'eno1', 'enp0s3'];
const group16 = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xf }), fc.integer({ min: 0x10, max: 0xfff }), fc.integer({ min: 0x1000, max: 0xffff }));

export const ipv6Arb: fc.Arbitrary<PiiValue> = fc
  .record({
    form: pick(IPV6_FORMS),
    groups: fc.array(group16, { minLength: 8, maxLength: 8 }),
    first: pick([0x2001, 0xfe80, 0xfd00, 0x2a00, 0x2600, 0x2607, 0x2a02, 0xff02, -1]),
    runStart: fc.nat(),
    runLength: fc.integer({ min: 1, max: 5 }),
    casing: pick(['lower', 'lower', 'upper', 'mixed'] as const),
    bits: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    v4: fc.tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet).map((o) => o.join('.')),
    zone: pick(ZONES),
    compressV4: fc.boolean(),
  })
  .map(({ form, groups, first, runStart, runLength, casing, bits, v4, zone, compressV4 }) => {
    const g = [...groups];
    if (first >= 0 && form !== 'compressed-start') g[0] = first;
    const hex = (xs: readonly number[]): string[] => xs.map((x) => x.toString(16));
    /** Groups [0, from) '::' groups [to, end): zeros in [from, to) are forced, the neighbours made non-zero. */
    const compress = (from: number, to: number, end: number): string => {
      for (let i = from; i < to; i++) g[i] = 0;
      if (from > 0 && g[from - 1] === 0) g[from - 1] = 1;
      if (to < end && g[to] === 0) g[to] = 0xa;
      return `${hex(g.slice(0, from)).join(':')}::${hex(g.slice(to, end)).join(':')}`;
    };
    let text: string;
    switch (form) {
      case 'full':
        text = hex(g).join(':');
        break;
      case 'full-padded':
        text = hex(g).map((x) => x.padStart(4, '0')).join(':');
        break;
      case 'compressed-start':
        text = compress(0, 1 + (runStart % 5), 8);
        break;
      case 'compressed-middle': {
        const from = 1 + (runStart % 6);
        text = compress(from, Math.min(from + runLength, 7), 8);
        break;
      }
      case 'compressed-end':
        text = compress(3 + (runStart % 5), 8, 8);
        break;
      case 'ipv4-mapped':
        text = `::ffff:${v4}`;
        break;
      case 'nat64':
        text = `64:ff9b::${v4}`;
        break;
      case 'ipv4-embedded': {
        const head = compressV4 ? compress(2, 3 + (runStart % 4), 6) : hex(g.slice(0, 6)).join(':');
        text = head.endsWith('::') ? head + v4 : `${head}:${v4}`;
        break;
      }
      case 'zone':
        text = `fe80::${hex(g.slice(8 - (1 + (runStart % 4)))).map((x, i) => (i === 0 && x === '0' ? '1' : x)).join(':')}%${zone}`;
        break;
    }
    const at = text.search(/%/);
    const [addr, rest] = at === -1 ? [text, ''] : [text.slice(0, at), text.slice(at)];
    const cased = casing === 'lower' ? addr : casing === 'upper' ? addr.toUpperCase() : [...addr].map((c, i) => (bits[i % bits.length] === true ? c.toUpperCase() : c)).join('');
    return pii('ipv6', casing === 'lower' ? form : `${form}-${casing}`, cased + rest);
  });

// ------------------------------------------------------------------------------------------- by kind

export const PII_ARBITRARIES: Readonly<Record<DetectorName, fc.Arbitrary<PiiValue>>> = {
  email: emailArb,
  phone: phoneArb,
  ssn: ssnArb,
  'credit-card': creditCardArb,
  iban: ibanArb,
  ipv4: ipv4Arb,
  ipv6: ipv6Arb,
};

export const anyPiiArb: fc.Arbitrary<PiiValue> = fc.oneof(...DETECTOR_NAMES.map((k) => PII_ARBITRARIES[k]));
