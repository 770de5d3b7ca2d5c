// CI check that masked records hold none of the raw values they were made from. Never prints a value.
//
//   node check-masked.mjs --source FILE --target FILE --fields a,b,c [--min-records N]
//
// Both files are JSON lines: the source an input file (Avro JSON encoding, union branches as {"string": v})
// or `masker tail --json` of the source topic; the target `masker tail --json` of the target topic.
// Raw values: every string leaf under a field named in --fields, anywhere in a source record (before/after,
// nested records, union branches), plus every e-mail address found in any source string (free text such as
// notes is scrubbed, not replaced whole). Fails when a raw value occurs inside any string of any target
// record (key, value, headers), or when the target has fewer than --min-records records (default 1).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const sourceFile = opt('source');
const targetFile = opt('target');
const fields = new Set((opt('fields') ?? '').split(',').filter(Boolean));
const minRecords = Number(opt('min-records') ?? '1');
if (sourceFile === undefined || targetFile === undefined || fields.size === 0) {
  console.error('usage: check-masked.mjs --source FILE --target FILE --fields a,b,c [--min-records N]');
  process.exit(2);
}

const lines = (file) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
  try { return JSON.parse(l); } catch { throw new Error(`${file}:${i + 1}: not JSON`); }
});

const AVRO_BRANCH = /^(string|bytes|int|long|float|double|boolean|array|map)$|\./;

/** Calls visit(string, fieldName) for every string leaf; fieldName is the nearest enclosing record field. */
function walk(node, field, visit) {
  if (typeof node === 'string') visit(node, field);
  else if (Array.isArray(node)) for (const item of node) walk(item, field, visit);
  else if (node !== null && typeof node === 'object') {
    const entries = Object.entries(node);
    // An Avro JSON union branch ({"string": v}, {"ns.Record": {...}}) keeps the enclosing field's name.
    if (entries.length === 1 && AVRO_BRANCH.test(entries[0][0])) walk(entries[0][1], field, visit);
    else for (const [k, v] of entries) walk(v, k, visit);
  }
}

/** The row images of a Debezium envelope (before/after), or the whole value: not the `source` block. */
function rows(record) {
  const value = record !== null && typeof record === 'object' && 'value' in record && 'topic' in record ? record.value : record;
  if (value !== null && typeof value === 'object' && ('after' in value || 'before' in value)) return [value.before, value.after];
  return [value];
}

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
const raw = new Map(); // value → field it came from
const sources = lines(sourceFile);
for (const record of sources) {
  walk(rows(record), '', (s, field) => {
    if (fields.has(field) && s.length >= 4) raw.set(s, field);
    for (const m of s.matchAll(EMAIL)) raw.set(m[0], `${field} (e-mail inside)`);
  });
}

const targets = lines(targetFile);
const leaks = [];
for (const record of targets) {
  const strings = [];
  walk(record, '', (s) => strings.push(s));
  for (const [value, field] of raw) {
    if (strings.some((s) => s.includes(value))) leaks.push(`raw ${field} value in target record ${record.topic ?? '?'}/${record.partition ?? '?'}@${record.offset ?? '?'}`);
  }
}

console.log(`check-masked: ${raw.size} raw values (${[...fields].join(', ')} + e-mails) from ${sources.length} source records, ${targets.length} target records`);
if (targets.length < minRecords) {
  console.error(`check-masked: FAIL: ${targets.length} target records, expected at least ${minRecords}`);
  process.exit(1);
}
if (raw.size === 0) {
  console.error('check-masked: FAIL: no raw values found in the source: wrong --fields or empty source, the check would prove nothing');
  process.exit(1);
}
if (leaks.length > 0) {
  for (const leak of leaks.slice(0, 20)) console.error(`check-masked: FAIL: ${leak}`);
  process.exit(1);
}
console.log('check-masked: ok, no raw value in the masked records');
