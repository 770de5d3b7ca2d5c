import { z } from 'zod';
import { POLICY_NAME } from '../policy/policy-source.js';
import { HttpProblem, type ProblemItem } from './problem.js';

export type EnvelopeChoice = 'debezium' | 'none' | 'auto';

/** What a client asks `POST /v1/mask` to do, validated. Exactly one of `subject` and `schemaId`. */
export type MaskRequest = {
  /** The record, in Avro JSON encoding (unions as `{"<branch>": value}`); not yet checked against the schema. */
  readonly record: unknown;
  /** Policy name; default: the server's `--policy`. */
  readonly policy: string | undefined;
  /** Default `auto`: debezium when the schema's top-level record has before, after and op. */
  readonly envelope: EnvelopeChoice;
} & ({ readonly subject: string; readonly schemaId?: undefined } | { readonly schemaId: number; readonly subject?: undefined });

const requestSchema = z
  .object({
    /** Registry subject; the latest version is used. */
    subject: z.string().min(1).max(255).optional(),
    /** Registry schema id (global id, as in the Confluent wire format). */
    schemaId: z.number().int().min(1).max(2_147_483_647).optional(),
    record: z.unknown(),
    policy: z.string().regex(POLICY_NAME).optional(),
    envelope: z.enum(['debezium', 'none', 'auto']).optional(),
  })
  .strict();

/** Unknown key names are shown only when they look like names (`[A-Za-z_][A-Za-z0-9_]*`, ≤ 64 characters). */
const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Validates the decoded JSON body. Every problem is reported with its JSON path; messages are fixed text
 * (what was expected), never the value found — a misplaced record value must not come back in the error.
 */
export function parseMaskRequest(body: unknown): MaskRequest {
  const parsed = requestSchema.safeParse(body);
  const errors: ProblemItem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push({ path: jsonPath(issue.path), detail: describeIssue(issue) });
  } else {
    const data = parsed.data;
    if (!Object.hasOwn(data, 'record') || data.record === undefined) errors.push({ path: '$.record', detail: 'required' });
    if ((data.subject === undefined) === (data.schemaId === undefined)) {
      errors.push({ path: '$', detail: 'expected exactly one of "subject" and "schemaId"' });
    }
  }
  if (!parsed.success || errors.length > 0) {
    throw new HttpProblem('invalid-request', { detail: 'the body is not a valid mask request', errors, reason: 'request shape' });
  }
  const { subject, schemaId, record, policy, envelope } = parsed.data;
  const common = { record, policy, envelope: envelope ?? 'auto' } as const;
  return subject !== undefined ? { ...common, subject } : { ...common, schemaId: schemaId ?? 0 };
}

function describeIssue(issue: z.ZodIssue): string {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      return issue.received === 'undefined' ? 'required' : `expected ${issue.expected}, found ${issue.received}`;
    case z.ZodIssueCode.unrecognized_keys: {
      const shown = issue.keys.filter((k) => SAFE_KEY.test(k));
      return `unknown key(s)${shown.length > 0 ? ` ${shown.join(', ')}` : ''}; allowed: subject, schemaId, record, policy, envelope`;
    }
    case z.ZodIssueCode.invalid_enum_value:
      return `expected one of ${issue.options.join(', ')}`;
    case z.ZodIssueCode.invalid_string:
      return 'expected a policy name: 1-63 characters [a-z0-9-]';
    case z.ZodIssueCode.too_small:
      return issue.type === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
    case z.ZodIssueCode.too_big:
      return issue.type === 'string' ? `at most ${String(issue.maximum)} characters` : `must be at most ${String(issue.maximum)}`;
    default:
      return 'invalid';
  }
}

function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), '$');
}
