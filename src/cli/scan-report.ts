import { SingleBar } from 'cli-progress';
import { stringify as toYaml } from 'yaml';
import type { Coverage, FieldReport, FieldScanSummary, PolicySuggestion, TagSuggestion } from '../masking/index.js';
import { DETECTOR_NAMES } from '../masking/index.js';

/**
 * What `masker scan` prints: the report (text or one JSON document), `--suggest` output, the progress bar.
 * Everything here is built from field paths, types, tags, rule names and counts: a report has no place
 * for a sampled value, and none is ever passed in.
 */

/** Records that could not be scanned, per reason (`where`: a few partition/offset or line positions). */
export interface ScanFailure {
  readonly code: string;
  readonly count: number;
  readonly what: string;
  readonly where: readonly string[];
}

export type ScanSource =
  | { readonly topic: string; readonly partitions: number; readonly from: string }
  | { readonly file: string; readonly schemaFile: string };

export interface ScanPolicyInfo {
  readonly name: string;
  readonly version?: number;
  /** Where it came from: a file, the policies folder, Redis (no credentials). */
  readonly origin: string;
  readonly disabledRules: readonly string[];
}

/** `pii-not-covered` → exit 1, `clean` → 0, `unreadable` (records read, none decoded) → 2. */
export type ScanOutcome = 'pii-not-covered' | 'clean' | 'unreadable';

export interface ScanReport {
  readonly schema: 'masker.scan/v1';
  readonly source: ScanSource;
  /** Null: no policy, only tags in the default sensitiveTags ([PII]) cover fields. */
  readonly policy: ScanPolicyInfo | null;
  readonly envelope: string;
  readonly records: {
    /** The --samples limit (null: a whole file). */
    readonly requested: number | null;
    readonly read: number;
    readonly decoded: number;
    readonly tombstones: number;
    readonly failed: number;
  };
  readonly failures: readonly ScanFailure[];
  readonly schemaIds: readonly number[];
  /** Plan errors of the policy on a scanned schema: its records would all be quarantined. */
  readonly planErrors: readonly string[];
  readonly fields: readonly FieldReport[];
  readonly summary: FieldScanSummary;
  readonly notes: readonly string[];
  readonly outcome: ScanOutcome;
}

export const SCAN_EXIT_CODES: Readonly<Record<ScanOutcome, number>> = { 'pii-not-covered': 1, clean: 0, unreadable: 2 };

/** Records read and none decoded: the scan cannot tell (2), whatever the schema's names suggest. */
export function outcomeOf(read: number, decoded: number, summary: FieldScanSummary): ScanOutcome {
  if (read > 0 && decoded === 0) return 'unreadable';
  return summary.piiNotCovered > 0 ? 'pii-not-covered' : 'clean';
}

function coverageText(c: Coverage): string {
  switch (c.by) {
    case 'rule':
      return `rule ${c.rule} (${c.action})`;
    case 'tags':
      return `tags (${c.outcome})`;
    case 'envelope.freeText':
      return `envelope.freeText (${c.mode})`;
    case 'none':
      return '-';
  }
}

function hitsText(f: FieldReport): string {
  if (f.hits.values === 0) return f.scanned === 0 ? '-' : `none of ${f.scanned}`;
  const per = DETECTOR_NAMES.filter((d) => f.hits.byDetector[d] !== undefined).map((d) => `${d} ${f.hits.byDetector[d]}`).join(', ');
  return `${per} of ${f.scanned}${f.hits.inText > 0 ? ' (in text)' : ''}`;
}

const VERDICT_TEXT: Readonly<Record<FieldReport['verdict'], string>> = { covered: 'covered', clean: 'clean', 'pii-not-covered': 'PII NOT COVERED' };

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function sourceText(report: ScanReport): string {
  const s = report.source;
  const r = report.records;
  const counts = `${r.read} record(s) read, ${r.decoded} decoded${r.tombstones > 0 ? `, ${r.tombstones} tombstone(s)` : ''}${r.failed > 0 ? `, ${r.failed} not readable` : ''}`;
  if ('topic' in s) return `topic ${s.topic} (${s.partitions} partition(s), from ${s.from}): ${counts}`;
  return `file ${s.file} (schema ${s.schemaFile}): ${counts}`;
}

function policyText(p: ScanPolicyInfo | null): string {
  if (p === null) return 'none: only tags in the default sensitiveTags [PII] count as covered (pass --policy or --route)';
  const disabled = p.disabledRules.length > 0 ? `; rules toggled off: ${p.disabledRules.join(', ')}` : '';
  return `${p.name}${p.version === undefined ? '' : ` v${p.version}`} (${p.origin})${disabled}`;
}

/** The human report: header, one table per scope, failures, notes and the bottom line. */
export function renderText(report: ScanReport): string {
  const lines: string[] = [];
  lines.push(`masker scan: ${sourceText(report)}`);
  lines.push(`policy: ${policyText(report.policy)}`);
  lines.push(`envelope: ${report.envelope}${report.schemaIds.length > 0 ? `; schema id(s): ${report.schemaIds.join(', ')}` : ''}`);
  const header = ['FIELD', 'TYPE', 'TAGS', 'COVERED BY', 'VALUES', 'DETECTOR HITS (values)', 'NAME HINTS', 'VERDICT'];
  const groups: [string, FieldReport['scope']][] = [
    ['fields', 'value'],
    ['row fields (before/after merged; paths as rules match them)', 'row'],
    ['envelope fields (rules apply only when tagged)', 'envelope'],
  ];
  for (const [title, scope] of groups) {
    const fields = report.fields.filter((f) => f.scope === scope);
    if (fields.length === 0) continue;
    lines.push('', `${title}:`);
    lines.push(table([header, ...fields.map((f) => [
      f.path,
      `${f.type}${f.nullable ? '?' : ''}`,
      f.tags.length === 0 ? '-' : f.tags.join(','),
      coverageText(f.coverage),
      String(f.values),
      hitsText(f),
      f.nameHints.length === 0 ? '-' : f.nameHints.join(','),
      VERDICT_TEXT[f.verdict],
    ])]));
  }
  if (report.failures.length > 0) {
    lines.push('', 'not readable:');
    for (const f of report.failures) lines.push(`  ${f.count} record(s): ${f.what} [${f.code}]${f.where.length > 0 ? ` (e.g. ${f.where.join('; ')})` : ''}`);
  }
  if (report.planErrors.length > 0) {
    lines.push('', 'plan errors (records of that schema would be quarantined):');
    for (const e of report.planErrors) lines.push(`  ${e}`);
  }
  for (const n of report.notes) lines.push(`note: ${n}`);
  const s = report.summary;
  lines.push('', `${s.fields} field(s): ${s.piiNotCovered} with PII no rule or tag covers, ${s.covered} covered, ${s.clean} clean`);
  if (report.outcome === 'pii-not-covered') {
    lines.push('uncovered PII found (exit 1); --suggest policy prints rules for it, --suggest tags the schema with tags added');
  } else if (report.outcome === 'unreadable') {
    lines.push('no record could be read (exit 2)');
  }
  return `${lines.join('\n')}\n`;
}

/** One JSON document: the report, plus the suggestion when asked for. */
export function renderJson(report: ScanReport, suggestion?: { readonly policy: PolicySuggestion } | { readonly tags: TagSuggestion }): string {
  return `${JSON.stringify({ ...report, exitCode: SCAN_EXIT_CODES[report.outcome], ...(suggestion === undefined ? {} : { suggestion }) }, null, 2)}\n`;
}

/** `--suggest policy`: a whole policy document in YAML, with what was added and why as comments. */
export function renderPolicySuggestion(s: PolicySuggestion, base: ScanPolicyInfo | null): string {
  const head: string[] = [
    `# masker scan --suggest policy: ${s.added.length} rule(s) for fields no rule or tag covers.`,
    base === null
      ? '# A new policy (no --policy/--route was given); review every rule before use.'
      : `# Policy ${base.name}${base.version === undefined ? '' : ` v${base.version}`} with the suggested rules appended (its own rules first, unchanged); review before pushing.`,
  ];
  for (const a of s.added) head.push(`#   ${a.rule}: ${a.path} → ${a.action} (${a.why})`);
  if (s.needTags.length > 0) head.push(`# Envelope fields only tags can cover (see --suggest tags): ${s.needTags.join(', ')}`);
  if (s.unsuggested.length > 0) head.push(`# No action compiles for every scanned schema: ${s.unsuggested.join(', ')}`);
  return `${head.join('\n')}\n${toYaml(s.doc, { lineWidth: 0 })}`;
}

/** `--suggest tags`: the schema JSON with `confluent:tags` added. */
export function renderTagSuggestion(s: TagSuggestion): string {
  return `${JSON.stringify(s.json, null, 2)}\n`;
}

/** A progress bar on a terminal (records sampled of the planned total); nothing elsewhere. */
export function scanProgress(stream: NodeJS.WritableStream, enabled: boolean): { update(done: number, total: number): void; stop(): void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: 'scan [{bar}] {value}/{total} records', hideCursor: true, stream: stream as NodeJS.WriteStream, clearOnComplete: true });
  let running = false;
  return {
    update: (done, total) => {
      if (!running) {
        bar.start(total, done);
        running = true;
      } else bar.update(done);
    },
    stop: () => {
      if (running) bar.stop();
    },
  };
}
