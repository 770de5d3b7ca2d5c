/**
 * Document diff for `masker policy diff`: a unified line diff of the canonical pretty JSON of two policy
 * documents (keys sorted at every level, 2-space indent), so key order and YAML-vs-JSON never show up
 * as changes. Policies are small; a plain LCS after trimming the common head and tail is plenty.
 */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

export interface PolicyDiff {
  readonly from: string;
  readonly to: string;
  readonly changed: boolean;
  readonly lines: readonly DiffLine[];
  /** Unified diff text (`---`/`+++` headers, `@@` hunks); empty when unchanged. */
  readonly text: string;
}

export function canonicalPrettyJson(doc: unknown): string {
  return JSON.stringify(sortKeys(doc), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

export function diffPolicyDocs(fromDoc: unknown, toDoc: unknown, labels: { from: string; to: string }, context = 3): PolicyDiff {
  const lines = diffLines(canonicalPrettyJson(fromDoc).split('\n'), canonicalPrettyJson(toDoc).split('\n'));
  const changed = lines.some((l) => l.op !== ' ');
  return { ...labels, changed, lines, text: changed ? formatUnified(lines, labels, context) : '' };
}

export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const n = midA.length;
  const m = midB.length;
  // lcs[i * (m + 1) + j] = LCS length of midA[i..] and midB[j..]
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = midA[i] === midB[j]
        ? (lcs[(i + 1) * (m + 1) + j + 1] ?? 0) + 1
        : Math.max(lcs[(i + 1) * (m + 1) + j] ?? 0, lcs[i * (m + 1) + j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = a.slice(0, head).map((text) => ({ op: ' ', text }));
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (midA[i] === midB[j]) {
      out.push({ op: ' ', text: midA[i] ?? '' });
      i++;
      j++;
    } else if ((lcs[(i + 1) * (m + 1) + j] ?? 0) >= (lcs[i * (m + 1) + j + 1] ?? 0)) {
      out.push({ op: '-', text: midA[i++] ?? '' });
    } else {
      out.push({ op: '+', text: midB[j++] ?? '' });
    }
  }
  while (i < n) out.push({ op: '-', text: midA[i++] ?? '' });
  while (j < m) out.push({ op: '+', text: midB[j++] ?? '' });
  for (const text of a.slice(a.length - tail)) out.push({ op: ' ', text });
  return out;
}

function formatUnified(lines: readonly DiffLine[], labels: { from: string; to: string }, context: number): string {
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  const changes = lines.flatMap((l, idx) => (l.op === ' ' ? [] : [idx]));
  let k = 0;
  while (k < changes.length) {
    const first = changes[k] ?? 0;
    let last = first;
    // Extend the hunk while the next change is within 2 × context lines.
    while (k + 1 < changes.length && (changes[k + 1] ?? 0) - last <= 2 * context) last = changes[++k] ?? last;
    k++;
    const start = Math.max(0, first - context);
    const end = Math.min(lines.length, last + context + 1);
    let oldLine = 1;
    let newLine = 1;
    for (const l of lines.slice(0, start)) {
      if (l.op !== '+') oldLine++;
      if (l.op !== '-') newLine++;
    }
    const hunk = lines.slice(start, end);
    const oldCount = hunk.filter((l) => l.op !== '+').length;
    const newCount = hunk.filter((l) => l.op !== '-').length;
    out.push(`@@ -${oldLine},${oldCount} +${newLine},${newCount} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
  }
  return `${out.join('\n')}\n`;
}
