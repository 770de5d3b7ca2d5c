import fc from 'fast-check';
import type { DetectorName } from '../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../src/masking/index.js';
import type { PiiValue } from './pii-generators.js';
import { anyPiiArb, PII_ARBITRARIES } from './pii-generators.js';

/**
 * Notes that hide 1-4 generated values (pii-generators.ts) in glue of one class: prose, punctuation,
 * letters, same-kind and cross-kind neighbours, SQL, JSON, key=value logs, CSV, multi-line text. One rule
 * keeps the glue fair: raw digits never touch a digit-based value (a card followed by `2024` has no
 * knowable end), and nothing hex-like touches an IPv6 address (nor letters a-f on both sides of a digit
 * run: `abc4155550132abc` is a hex token); a separator, a letter or another kind of PII between them is
 * fair game. A note keeps its values apart from its glue, so the leak oracle knows what to look for.
 */

const pick = <T>(items: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...items);

export const GLUE_CLASSES = ['prose', 'punctuation', 'letters', 'same-kind', 'cross-kind', 'sql', 'json', 'kv-log', 'csv', 'multiline'] as const;
export type GlueClass = (typeof GLUE_CLASSES)[number];

/** A piece of a note: glue text, or an embedded value (whose text is `pii.value`). */
export interface Segment {
  readonly text: string;
  readonly pii?: PiiValue;
}

export interface Note {
  readonly glue: GlueClass;
  readonly segments: readonly Segment[];
}

/** Joins the glue pieces of a note when its values are taken out: no window can straddle it. */
export const GLUE_GAP = '\u0001';

export const noteText = (note: Note): string => note.segments.map((s) => s.text).join('');
/** The note with its values (or those `taken` selects) taken out: GLUE_GAP where each one stood. */
export const glueOnlyText = (note: Note, taken: (v: PiiValue) => boolean = () => true): string =>
  note.segments.map((s) => (s.pii !== undefined && taken(s.pii) ? GLUE_GAP : s.text)).join('');
export const noteValues = (note: Note): PiiValue[] => note.segments.flatMap((s) => (s.pii === undefined ? [] : [s.pii]));

/** Kinds made of digits: raw digits (or digits after a single `.`/`-`) must not touch them. */
const DIGIT_KINDS: ReadonlySet<DetectorName> = new Set<DetectorName>(['phone', 'ssn', 'credit-card', 'ipv4', 'iban']);

/** True when `left` followed by `right` would leave no knowable boundary between a value and its glue. */
function boundaryUnfair(left: Segment, right: Segment): boolean {
  const l = left.text;
  const r = right.text;
  if (left.pii?.kind === 'ipv6' && /^[0-9A-Fa-f:]/.test(r)) return true;
  if (right.pii?.kind === 'ipv6' && /[0-9A-Fa-f:]$/.test(l)) return true;
  if (left.pii !== undefined && DIGIT_KINDS.has(left.pii.kind) && /\d$/.test(l) && /^[.-]?\d/.test(r)) return true;
  if (right.pii !== undefined && DIGIT_KINDS.has(right.pii.kind) && /^\d/.test(r) && /\d[.-]?$/.test(l)) return true;
  return false;
}

/** Entropy for glue choices: a fixed tape of numbers that fast-check shrinks towards the simplest glue. */
export class Tape {
  private at = 0;
  constructor(private readonly numbers: readonly number[]) {}
  next(): number {
    const n = this.numbers.length === 0 ? 0 : this.numbers[this.at % this.numbers.length]!;
    const round = Math.floor(this.at / Math.max(this.numbers.length, 1));
    this.at++;
    return (n + round * 7919) >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
}

export const tapeArb: fc.Arbitrary<readonly number[]> = fc.array(fc.nat(0xffff), { minLength: 64, maxLength: 64 });

class Composer {
  private readonly parts: Segment[] = [];
  glue(text: string): this {
    if (text !== '') this.parts.push({ text });
    return this;
  }
  value(v: PiiValue): this {
    this.parts.push({ text: v.value, pii: v });
    return this;
  }
  /** Merges adjacent glue and puts a space where a value would otherwise touch unfair glue. */
  build(): Segment[] {
    const out: Segment[] = [];
    for (const part of this.parts) {
      const prev = out[out.length - 1];
      if (prev !== undefined && boundaryUnfair(prev, part)) {
        if (prev.pii === undefined) out[out.length - 1] = { text: `${prev.text} ` };
        else out.push({ text: ' ' });
      }
      const last = out[out.length - 1];
      if (last !== undefined && last.pii === undefined && part.pii === undefined) out[out.length - 1] = { text: last.text + part.text };
      else out.push(part);
    }
    return out;
  }
}

const WORDS = [
  'customer', 'called', 'about', 'the', 'refund', 'please', 'contact', 'at', 'or', 'via', 'new', 'address', 'is',
  'card', 'ending', 'payment', 'failed', 'for', 'order', 'shipped', 'on', 'Tuesday', 'wants', 'to', 'update', 'their',
  'details', 'and', 'from', 'ticket', 'escalated', 'per', 'manager', 'phone', 'email', 'IBAN', 'SSN', 'ip', 'login',
  'seen', 'server', 'account', 'verified', 'note', 'Hi', 'Thanks', 'Regards', 'Mr.', 'Ms.', 'Grüße', 'über', 'né',
  'ça', '日本', 'ok', 'backup', 'primary', 'secondary', 'old', 'wrong', 'number', 'reach', 'him', 'her', 'x',
];
const NUMBER_WORDS = ['3', '12', '2024', '2024-03-01', '$12.50', '#4521', '10:30', 'v2', 'x2', 'Q3', '1st', '42%', '17:45', '3.5', '100'];
const PUNCT = [',', ';', ':', '(', ')', '[', ']', '<', '>', '"', "'", '=', '/'];

function words(t: Tape, min: number, max: number): string {
  const n = min + t.int(max - min + 1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let w = t.chance(12) ? t.pick(NUMBER_WORDS) : t.pick(WORDS);
    if (t.chance(10)) w += t.pick([',', '.', ':', '!', '?']);
    out.push(w);
  }
  return out.join(' ');
}

/** Context that commonly wraps a value of each kind (`<jane@acme.com>`, `mailto:`, `[v6]:443`, `tel:`). */
const WRAPPERS: Readonly<Record<DetectorName, readonly (readonly [string, string])[]>> = {
  email: [['"', '"'], ['<', '>'], ['mailto:', ''], ['<mailto:', '>'], ['(', ')'], ["'", "'"], ['Jane Doe <', '>'], ['"Doe, Jane" <', '>'], ['[', ']'], ['email=', '']],
  phone: [['tel:', ''], ['(', ')'], ['Tel.: ', ''], ['"', '"'], ['<', '>'], ['[', ']'], ['phone=', ''], ['tel:', ';ext=12']],
  ssn: [['SSN: ', ''], ['(', ')'], ['"', '"'], ['#', ''], ['ssn=', ''], ['[', ']']],
  'credit-card': [['card: ', ''], ['(', ')'], ['"', '"'], ['[', ']'], ['cc=', ''], ['#', '']],
  iban: [['IBAN ', ''], ['IBAN: ', ''], ['(', ')'], ['"', '"'], ['iban=', ''], ['<', '>']],
  ipv4: [['', ':8080'], ['', ':443'], ['', '/24'], ['http://', '/'], ['[', ']'], ['ip=', ''], ['(', ')'], ['"', '"']],
  ipv6: [['[', ']'], ['[', ']:443'], ['[', ']:8080'], ['http://[', ']/'], ['https://[', ']:8443/api'], ['(', ')'], ['"', '"'], ['ip=', ''], ['<', '>']],
};

/**
 * Letters glued to a value. IPv6 gets letters outside a-f (hex letters would extend its groups). Only one
 * side may be all a-f: `abc4155550132abc` reads as a hex token (a hash), which scrub leaves by design.
 */
const LETTERS_BEFORE = ['ref', 'tel', 'id', 'acct', 'x', 'abc', 'Card', 'no', 'Tel', 'ssn', 'IBAN', 'mail'];
const LETTERS_AFTER = ['xyz', 'x', 'ext', 'ok', 'END', 'z', 'Thanks', 'pls', 'ref'];
const NON_HEX_BEFORE = ['ip', 'host', 'srv', 'gw', 'tz', 'vpn', 'Z'];
const NON_HEX_AFTER = ['x', 'ok', 'gw', 'zz', 'port', 'UP', 'vpn'];

/** Separators between neighbours of one kind: cards and phones by a space or comma, IBANs also by nothing. */
function sameKindSeparator(t: Tape, kind: DetectorName): string {
  if (kind === 'iban') return t.pick(['', '', ' ', ', ', ',']);
  if (kind === 'email') return t.pick([', ', ',', '; ', ';', ' ']);
  return t.pick([' ', ' ', ', ', ',', '; ', ' / ']);
}

/** Digits that may follow an email directly (`jane@acme.com2024`): a digit run has no place in a TLD. */
const EMAIL_DIGIT_TAILS = ['2024', '1', '42', '12345', '2024-03-01'];

type Builder = (c: Composer, t: Tape, values: readonly PiiValue[]) => void;

const KEY_OF: Readonly<Record<DetectorName, readonly string[]>> = {
  email: ['email', 'mail', 'contact_email', 'e'],
  phone: ['phone', 'tel', 'mobile', 'phone_number'],
  ssn: ['ssn', 'tax_id', 'national_id'],
  'credit-card': ['card', 'card_number', 'pan', 'cc'],
  iban: ['iban', 'account', 'bank_account'],
  ipv4: ['ip', 'client_ip', 'remote_addr', 'src'],
  ipv6: ['ip', 'ip6', 'client_ip', 'remote_addr'],
};

const BUILDERS: Readonly<Record<GlueClass, Builder>> = {
  prose: (c, t, values) => {
    if (t.chance(70)) c.glue(`${words(t, 1, 6)} `);
    values.forEach((v, i) => {
      c.value(v);
      if (i < values.length - 1) c.glue(` ${words(t, 1, 5)} `);
    });
    if (t.chance(70)) c.glue(` ${words(t, 1, 6)}`);
    if (t.chance(40)) c.glue(t.pick(['.', '!', '?', ' :)']));
  },
  punctuation: (c, t, values) => {
    if (t.chance(70)) c.glue(`${words(t, 1, 4)} `);
    values.forEach((v, i) => {
      const [before, after] = t.chance(50) ? t.pick(WRAPPERS[v.kind]) : ['', ''];
      const left = t.chance(60) ? t.pick(PUNCT) : '';
      const right = t.chance(60) ? t.pick(PUNCT) : '';
      c.glue(left + before).value(v).glue(after + right);
      if (t.chance(30)) c.glue(t.pick(['.', '!', '?', '...', ',']));
      if (i < values.length - 1) c.glue(t.chance(30) ? t.pick(PUNCT) : ` ${words(t, 0, 3)} `);
    });
    if (t.chance(60)) c.glue(` ${words(t, 1, 4)}`);
  },
  letters: (c, t, values) => {
    if (t.chance(50)) c.glue(`${words(t, 1, 3)} `);
    values.forEach((v, i) => {
      const hexy = v.kind === 'ipv6';
      const side = t.int(3); // 0: before, 1: after, 2: both
      if (side !== 1) c.glue(t.pick(hexy ? NON_HEX_BEFORE : LETTERS_BEFORE));
      c.value(v);
      if (side !== 0) c.glue(t.pick(hexy ? NON_HEX_AFTER : LETTERS_AFTER));
      if (i < values.length - 1) c.glue(` ${words(t, 0, 3)} `);
    });
    if (t.chance(50)) c.glue(` ${words(t, 1, 3)}`);
  },
  'same-kind': (c, t, values) => {
    // Values of one kind next to each other; different kinds apart (the cross-kind class is elsewhere).
    const sorted = [...values].sort((a, b) => a.kind.localeCompare(b.kind));
    if (t.chance(70)) c.glue(`${words(t, 1, 4)} `);
    sorted.forEach((v, i) => {
      c.value(v);
      const next = sorted[i + 1];
      if (next !== undefined) c.glue(next.kind === v.kind ? sameKindSeparator(t, v.kind) : ` ${words(t, 1, 3)} `);
    });
    if (t.chance(70)) c.glue(` ${words(t, 1, 4)}`);
  },
  'cross-kind': (c, t, values) => {
    // Every neighbour pair touches (or is one tight separator apart); an email may be followed by digits.
    if (t.chance(60)) c.glue(`${words(t, 1, 4)} `);
    values.forEach((v, i) => {
      c.value(v);
      if (v.kind === 'email' && t.chance(35)) c.glue(t.pick(EMAIL_DIGIT_TAILS));
      const next = values[i + 1];
      if (next === undefined) return;
      if (next.kind === v.kind) c.glue(sameKindSeparator(t, v.kind));
      else c.glue(t.chance(60) ? '' : t.pick([' ', ',', ', ', ';', '/', ' | ']));
    });
    if (t.chance(60)) c.glue(` ${words(t, 1, 4)}`);
  },
  sql: (c, t, values) => {
    const form = t.int(3);
    if (form === 0) {
      c.glue(`INSERT INTO customers (id, ${values.map((v) => t.pick(KEY_OF[v.kind])).join(', ')}, created) VALUES (${1 + t.int(99999)}, `);
      values.forEach((v) => c.glue("'").value(v).glue("', "));
      c.glue("'2024-03-01 12:30:00');");
    } else if (form === 1) {
      c.glue('UPDATE customers SET ');
      values.forEach((v, i) => c.glue(`${i === 0 ? '' : ', '}${t.pick(KEY_OF[v.kind])} = '`).value(v).glue("'"));
      c.glue(` WHERE id = ${t.int(100000)};`);
    } else {
      c.glue(`INSERT INTO notes VALUES (${t.int(1000)}, '${words(t, 1, 3)} `);
      values.forEach((v) => c.value(v).glue(` ${words(t, 1, 3)} `));
      c.glue(`', ${t.int(5)}, NULL);`);
    }
  },
  json: (c, t, values) => {
    const colon = t.pick([':', ': ']);
    const comma = t.pick([',', ', ']);
    c.glue(`{"id"${colon}${t.int(100000)}${comma}`);
    if (t.chance(50)) {
      values.forEach((v, i) => c.glue(`${i === 0 ? '' : comma}"${t.pick(KEY_OF[v.kind])}${i}"${colon}"`).value(v).glue('"'));
    } else if (t.chance(50)) {
      c.glue(`"contacts"${colon}[`);
      values.forEach((v, i) => c.glue(i === 0 ? '"' : `${comma}"`).value(v).glue('"'));
      c.glue(']');
    } else {
      c.glue(`"note"${colon}"${words(t, 1, 3)} `);
      values.forEach((v) => c.value(v).glue(` ${words(t, 1, 3)} `));
      c.glue('"');
    }
    c.glue(`${comma}"ts"${colon}"2024-03-01T12:30:00Z"${comma}"amount"${colon}12.5}`);
  },
  'kv-log': (c, t, values) => {
    c.glue(`2024-03-01T12:${String(t.int(60)).padStart(2, '0')}:07.${t.int(1000)}Z ${t.pick(['INFO', 'WARN', 'ERROR', 'DEBUG'])} req=${t.int(1 << 20).toString(16)} `);
    values.forEach((v) => {
      const key = t.pick(KEY_OF[v.kind]);
      if (t.chance(30)) c.glue(`msg="${words(t, 1, 3)} `).value(v).glue('" ');
      else if (t.chance(30)) c.glue(`${key}="`).value(v).glue('" ');
      else c.glue(`${key}=`).value(v).glue(' ');
    });
    c.glue(`status=${t.pick(['200', '404', '500'])} dur_ms=${t.int(5000)}`);
  },
  csv: (c, t, values) => {
    const sep = t.pick([',', ';', '\t', '|']);
    const quote = t.chance(40);
    const rows = values.length > 2 && t.chance(50) ? 2 : 1;
    const perRow = Math.ceil(values.length / rows);
    c.glue(['id', 'name', ...Array.from({ length: perRow }, (_, i) => `field${i}`), 'amount', 'created'].join(sep) + '\n');
    for (let r = 0; r < rows; r++) {
      c.glue(`${t.int(10000)}${sep}${t.pick(['Jane Doe', 'Bob', '"Doe, J."', 'Ünal'])}${sep}`);
      for (let i = 0; i < perRow; i++) {
        const v = values[r * perRow + i];
        if (v === undefined) c.glue(sep);
        else c.glue(quote ? '"' : '').value(v).glue(`${quote ? '"' : ''}${sep}`);
      }
      c.glue(`${t.pick(['12.50', '1234.56', '0', '-3.10'])}${sep}2024-0${1 + t.int(9)}-1${t.int(10)}${t.chance(50) ? '\r\n' : '\n'}`);
    }
  },
  multiline: (c, t, values) => {
    const nl = t.pick(['\n', '\r\n']);
    c.glue(`${t.pick(['Hi team,', 'Notes:', 'Call log', '> forwarded'])}${nl}`);
    values.forEach((v) => {
      const line = t.int(5);
      if (line === 0) c.glue(`- ${t.pick(KEY_OF[v.kind])}: `).value(v).glue(nl);
      else if (line === 1) c.value(v).glue(nl);
      else if (line === 2) c.glue(`    `).value(v).glue(`${nl}${nl}`);
      else if (line === 3) c.glue(`> ${words(t, 1, 3)} `).value(v).glue(` ${words(t, 1, 2)}${nl}`);
      else c.glue(`${words(t, 1, 3)}${nl}`).value(v).glue(`${nl}${words(t, 1, 2)}${nl}`);
    });
    if (t.chance(50)) c.glue(`Regards,${nl}Support`);
  },
};

export function buildNote(glue: GlueClass, values: readonly PiiValue[], tape: readonly number[]): Note {
  const composer = new Composer();
  BUILDERS[glue](composer, new Tape(tape), values);
  return { glue, segments: composer.build() };
}

const otherKinds = (kind: DetectorName): DetectorName[] => DETECTOR_NAMES.filter((k) => k !== kind);

/**
 * Notes that embed values of `focus` (1-4 of them; 2-4 for the same-kind class), with 1-2 values of other
 * kinds as neighbours in the cross-kind class. Without a focus, values of any kind (the mixed property).
 */
export function noteArb(focus?: DetectorName, glues: readonly GlueClass[] = GLUE_CLASSES): fc.Arbitrary<Note> {
  return pick(glues).chain((glue) => {
    let values: fc.Arbitrary<PiiValue[]>;
    if (focus !== undefined) {
      const own = fc.array(PII_ARBITRARIES[focus], { minLength: glue === 'same-kind' ? 2 : 1, maxLength: 4 });
      values = glue !== 'cross-kind'
        ? own
        : fc.tuple(own, fc.array(fc.oneof(...otherKinds(focus).map((k) => PII_ARBITRARIES[k])), { minLength: 1, maxLength: 2 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }))
          .map(([mine, others, order]) => interleave(mine, others, order));
    } else if (glue === 'same-kind') {
      values = pick(DETECTOR_NAMES).chain((k) =>
        fc.tuple(fc.array(PII_ARBITRARIES[k], { minLength: 2, maxLength: 3 }), fc.array(anyPiiArb, { maxLength: 1 })).map(([a, b]) => [...a, ...b]));
    } else if (glue === 'cross-kind') {
      values = fc.tuple(pick(DETECTOR_NAMES), fc.nat(DETECTOR_NAMES.length - 2)).chain(([a, n]) => {
        const b = otherKinds(a)[n]!;
        return fc.tuple(PII_ARBITRARIES[a], PII_ARBITRARIES[b], fc.array(anyPiiArb, { maxLength: 2 })).map(([x, y, rest]) => [x, y, ...rest]);
      });
    } else {
      values = fc.array(anyPiiArb, { minLength: 1, maxLength: 4 });
    }
    return fc.tuple(values, tapeArb).map(([vs, tape]) => buildNote(glue, vs, tape));
  });
}

/** Merges two lists keeping each list's order; `order[i]` true takes from `others` next. */
function interleave(mine: readonly PiiValue[], others: readonly PiiValue[], order: readonly boolean[]): PiiValue[] {
  const out: PiiValue[] = [];
  let i = 0;
  let j = 0;
  for (let step = 0; i < mine.length || j < others.length; step++) {
    const takeOther = j < others.length && (i >= mine.length || order[step % order.length] === true);
    out.push(takeOther ? others[j++]! : mine[i++]!);
  }
  return out;
}
