import avro from 'avsc';
import type { DetectorName, KeyRing, MaskingKey } from '../../src/masking/index.js';
import { compilePlan, maskEncoded, maskRecord, parsePolicy } from '../../src/masking/index.js';
import type { PiiValue } from './pii-generators.js';
import type { Note } from './pii-glue.js';
import { glueOnlyText, noteText, noteValues } from './pii-glue.js';

/**
 * The scrubber under attack (the real engine: a one-field schema, one `scrub` rule) and the leak oracle
 * shared by the scrub properties and bench/scrub/scrub-quality.ts.
 *
 * The oracle's rule: after scrubbing, no 8-character window of an embedded value (the whole value when it
 * is shorter) that holds at least five digits or an `@` (for IPv6: five hex digits, since `fe80::abcd`
 * has few decimal ones) may occur in the output, and neither may the value's digits-only form when it has
 * at least seven digits. A window is no evidence when the glue alone holds it (the note with every value
 * taken out, its pieces kept apart); with `replace: pseudonym`, an occurrence lying inside a generated
 * pseudonym (pseudonym-shaped text that is not in the input) is no evidence either. An occurrence that
 * straddles a replacement and the text next to it is evidence: part of the value survived beside it.
 */

export type ReplaceMode = 'tag' | 'pseudonym';
export type Scrubber = (text: string) => string;

export const NOTE_SCHEMA = { type: 'record', name: 'Note', fields: [{ name: 'note', type: 'string' }] } as const;

const KEY: MaskingKey = { id: 'k1', secret: new TextEncoder().encode('scrub-attack-secret-0123456789') };
export const SCRUB_KEYS: KeyRing = { active: KEY, keys: new Map([[KEY.id, KEY]]) };

/**
 * A scrubber going through the engine: `maskRecord` on the decoded record, or `maskEncoded` on its Avro
 * bytes (the byte path the worker uses), with `replace: tag` or `replace: pseudonym`.
 */
export function noteScrubber(replace: ReplaceMode, path: 'record' | 'encoded' = 'record'): Scrubber {
  const type = avro.Type.forSchema(NOTE_SCHEMA as unknown as avro.Schema);
  const policy = parsePolicy({
    apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'scrub-attack',
    rules: [{ name: 'note', match: { path: 'note' }, action: 'scrub', params: { replace } }],
  }, 'scrub-attack-policy');
  const plan = compilePlan(type, policy, { envelope: 'none', schemaJson: NOTE_SCHEMA });
  if (path === 'record') {
    return (text) => (maskRecord(plan, { note: text }, SCRUB_KEYS).value as { note: string }).note;
  }
  return (text) => (type.fromBuffer(maskEncoded(plan, type.toBuffer({ note: text }), SCRUB_KEYS).bytes) as { note: string }).note;
}

/** The windows of a value that must not survive (see the module comment). */
export function evidenceWindows(v: PiiValue): string[] {
  const s = v.value;
  const counts = (w: string): boolean =>
    v.kind === 'ipv6' ? (w.match(/[0-9A-Fa-f]/g)?.length ?? 0) >= 5 : w.includes('@') || (w.match(/\d/g)?.length ?? 0) >= 5;
  const windows = s.length <= 8 ? [s] : Array.from({ length: s.length - 7 }, (_, i) => s.slice(i, i + 8));
  return [...new Set(windows.filter(counts))];
}

/**
 * Shapes of the pseudonyms `scrub` writes (src/masking/formats/pseudonyms.ts), each with the boundaries it
 * needs where it could otherwise borrow characters from surviving text next to it (`…7110.33.255.106` must
 * not read as the IPv4 pseudonym `10.33.255.106`): an excused span must not take in digits that survived
 * beside it. A boundary may also be the edge of another pseudonym: values glued together in the input are
 * replaced by pseudonyms glued together (`DE…2710.225.146.226`).
 */
interface PseudonymShape {
  readonly body: RegExp;
  /** May the pseudonym start after this character (undefined: start of text)? */
  readonly left: (before: string | undefined) => boolean;
  /** May it end before this character (and the one after it)? */
  readonly right: (after: string | undefined, next: string | undefined) => boolean;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /[0-9A-Fa-f]/.test(c);
const any = (): boolean => true;
const noDigit = (c: string | undefined): boolean => !isDigit(c);

const PSEUDONYM_SHAPES: readonly PseudonymShape[] = [
  { body: /[a-z]+\.[a-z]+\d{1,8}@example\.(?:com|net|org)/y, left: any, right: any },
  { body: /\+1 \d{3}-555-\d{4}/y, left: any, right: noDigit },
  { body: /9\d\d-\d\d-\d{4}/y, left: (b) => !isDigit(b) && b !== '-', right: noDigit },
  { body: /\d{16}/y, left: noDigit, right: noDigit },
  { body: /DE\d{20}/y, left: any, right: noDigit },
  { body: /10\.\d{1,3}\.\d{1,3}\.\d{1,3}/y, left: (b) => !isDigit(b) && b !== '.', right: (a, n) => !isDigit(a) && !(a === '.' && isDigit(n)) },
  { body: /2001:db8(?::[0-9a-f]{1,4}){6}/y, left: (b) => !isHex(b) && b !== ':', right: (a) => !isHex(a) && a !== ':' && a !== '.' },
];

/** Spans of the output that hold a generated pseudonym: pseudonym-shaped text the input does not contain. */
function pseudonymSpans(output: string, input: string): [number, number][] {
  const candidates: { start: number; end: number; shape: PseudonymShape }[] = [];
  for (const shape of PSEUDONYM_SHAPES) {
    for (let i = 0; i < output.length; i++) {
      shape.body.lastIndex = i;
      const m = shape.body.exec(output);
      if (m !== null && !input.includes(m[0])) candidates.push({ start: i, end: i + m[0].length, shape });
    }
  }
  // A candidate is a pseudonym when each edge is a boundary, or meets a candidate that is one in turn
  // (pseudonyms written side by side, like the values they replaced).
  type Candidate = (typeof candidates)[number];
  const leftMemo = new Map<Candidate, boolean>();
  const rightMemo = new Map<Candidate, boolean>();
  const leftOk = (c: Candidate): boolean => {
    let ok = leftMemo.get(c);
    if (ok === undefined) {
      leftMemo.set(c, false);
      ok = c.shape.left(output[c.start - 1]) || candidates.some((d) => d.end === c.start && leftOk(d));
      leftMemo.set(c, ok);
    }
    return ok;
  };
  const rightOk = (c: Candidate): boolean => {
    let ok = rightMemo.get(c);
    if (ok === undefined) {
      rightMemo.set(c, false);
      ok = c.shape.right(output[c.end], output[c.end + 1]) || candidates.some((d) => d.start === c.end && rightOk(d));
      rightMemo.set(c, ok);
    }
    return ok;
  };
  const accepted = candidates.filter((c) => leftOk(c) && rightOk(c));
  return accepted.map((c) => [c.start, c.end]);
}

export interface Leak {
  readonly value: PiiValue;
  /** The surviving window, or the digits-only form. */
  readonly fragment: string;
}

/**
 * Values of the note (all, or those of `kind`) that leaked into `output`, with the fragment that
 * survived. `mode` says whether pseudonyms may explain an occurrence. With `kind`, values of other kinds
 * count as glue: a window they share with a checked value is no evidence against it.
 */
export function findLeaks(note: Note, output: string, mode: ReplaceMode, kind?: DetectorName): Leak[] {
  const input = noteText(note);
  const glueOnly = glueOnlyText(note, kind === undefined ? undefined : (v) => v.kind === kind);
  const fresh = mode === 'pseudonym' ? pseudonymSpans(output, input) : [];
  const survives = (fragment: string): boolean => {
    if (glueOnly.includes(fragment)) return false;
    for (let at = output.indexOf(fragment); at !== -1; at = output.indexOf(fragment, at + 1)) {
      if (!fresh.some(([start, end]) => start <= at && at + fragment.length <= end)) return true;
    }
    return false;
  };
  const leaks: Leak[] = [];
  for (const value of noteValues(note)) {
    if (kind !== undefined && value.kind !== kind) continue;
    const digitsOnly = value.value.replace(/\D/g, '');
    const fragments = evidenceWindows(value);
    if (digitsOnly.length >= 7) fragments.push(digitsOnly);
    const fragment = fragments.find(survives);
    if (fragment !== undefined) leaks.push({ value, fragment });
  }
  return leaks;
}

/** A failure message: the glue class, each leaked value with its kind and shape, input and output. */
export function describeLeaks(note: Note, output: string, leaks: readonly Leak[]): string {
  const lines = leaks.map((l) => `  ${l.value.kind}/${l.value.shape} ${JSON.stringify(l.value.value)} left ${JSON.stringify(l.fragment)}`);
  return [`scrub leaked in ${note.glue} glue:`, ...lines, `  input:  ${JSON.stringify(noteText(note))}`, `  output: ${JSON.stringify(output)}`].join('\n');
}
