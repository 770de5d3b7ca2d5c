import { z } from 'zod';
import { MaskerError } from '../errors.js';
import { closestName } from './closest-name.js';
import { globSyntaxError } from './path-glob.js';
import {
  DETECTOR_NAMES,
  dateShiftParams,
  generalizeParams,
  hashParams,
  keepParams,
  maskParams,
  nullifyParams,
  pseudonymizeParams,
  redactParams,
  scrubParams,
} from './policy-params.js';

export type { ActionName } from './policy-params.js';

/** Avro type names a rule can match with `match.type` (primitives, enum, fixed and logical types). */
export const MATCHABLE_TYPES = [
  'null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'enum', 'fixed',
  'date', 'time-millis', 'time-micros', 'timestamp-millis', 'timestamp-micros', 'timestamp-nanos',
  'local-timestamp-millis', 'local-timestamp-micros', 'local-timestamp-nanos', 'decimal', 'uuid', 'duration',
] as const;

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NAME_MESSAGE = 'expected 1-63 characters [a-z0-9-], starting with a letter or digit';
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;

const glob = z.string().superRefine((g, ctx) => {
  const problem = globSyntaxError(g);
  if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const nameRegex = z.string().min(1).superRefine((source, ctx) => {
  try {
    new RegExp(source, 'i');
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a valid regular expression (${err instanceof Error ? err.message : 'syntax error'})` });
  }
});

const typeName = z.enum(MATCHABLE_TYPES);

/**
 * Which leaf fields a rule applies to. Every criterion given must hold (AND); within `tags`, `path` and
 * `type` lists any entry may match (OR).
 */
const matchSchema = z
  .object({
    /** Any of these tags (from `confluent:tags`, inherited from enclosing fields). Case-sensitive. */
    tags: z.array(z.string().regex(TAG, 'expected a tag such as PII or EMAIL')).min(1).optional(),
    /**
     * Path glob(s). With envelope `debezium`: relative to the row for `before`/`after` leaves, the full
     * path (`source.email`) for the other (tagged) envelope leaves.
     */
    path: z.union([glob, z.array(glob).min(1)]).transform((p) => (typeof p === 'string' ? [p] : p)).optional(),
    /** Regular expression over the leaf's own field name, anchored (^…$) and case-insensitive. */
    name: nameRegex.optional(),
    /** Avro type name(s): primitive, `enum`, `fixed`, or a logical type name. */
    type: z.union([typeName, z.array(typeName).min(1)]).transform((t) => (typeof t === 'string' ? [t] : t)).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.tags === undefined && m.path === undefined && m.name === undefined && m.type === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'match needs at least one of tags, path, name, type' });
    }
  });

const ruleBase = {
  name: z.string().regex(NAME, NAME_MESSAGE),
  description: z.string().optional(),
  match: matchSchema,
};

const ruleSchema = z.discriminatedUnion('action', [
  z.object({ ...ruleBase, action: z.literal('redact'), params: redactParams.default({}) }).strict(),
  z.object({ ...ruleBase, action: z.literal('nullify'), params: nullifyParams.default({}) }).strict(),
  z.object({ ...ruleBase, action: z.literal('mask'), params: maskParams.default({}) }).strict(),
  z.object({ ...ruleBase, action: z.literal('hash'), params: hashParams.default({}) }).strict(),
  z.object({ ...ruleBase, action: z.literal('pseudonymize'), params: pseudonymizeParams }).strict(),
  z.object({ ...ruleBase, action: z.literal('date-shift'), params: dateShiftParams.default({}) }).strict(),
  z.object({ ...ruleBase, action: z.literal('generalize'), params: generalizeParams }).strict(),
  z.object({ ...ruleBase, action: z.literal('scrub'), params: scrubParams.default({}) }).strict(),
  z.object({ ...ruleBase, action: z.literal('keep'), params: keepParams }).strict(),
], { errorMap: (issue, ctx) => {
  if (issue.code !== z.ZodIssueCode.invalid_union_discriminator) return { message: ctx.defaultError };
  // The action is configuration, not a record value: echo it (shortened) and suggest the closest action.
  const options = issue.options.map(String);
  const given = typeof ctx.data === 'object' && ctx.data !== null ? (ctx.data as Record<string, unknown>)['action'] : undefined;
  if (typeof given !== 'string') return { message: `${given === undefined ? 'missing' : 'invalid'} action: expected one of ${options.join(', ')}` };
  const shown = JSON.stringify(given.length > 40 ? `${given.slice(0, 40)}…` : given);
  const closest = closestName(given, options);
  return { message: `unknown action ${shown}${closest === undefined ? '' : ` (did you mean "${closest}"?)`}: expected one of ${options.join(', ')}` };
} });

/**
 * How envelope fields outside the rows are treated. Only `freeText` for now: Debezium's `source.query`
 * (SQL text, whole rows of values) when no tag covers it.
 */
const envelopeSchema = z
  .object({
    /**
     * Known free-text envelope fields (Debezium `source.query`) that no tag makes sensitive: `scrub`
     * (default: every detector, findings replaced by tags), `redact` (the whole text), or `keep` (an
     * explicit pass-through, reported by `policy validate` and in the plan).
     */
    freeText: z.enum(['scrub', 'redact', 'keep']).default('scrub'),
  })
  .strict();

/**
 * The safety net for what tags miss: string leaves (map values and array items too) that no rule masks are
 * scanned by the scrub detectors. Fields a rule marks `keep` are not scanned.
 */
const untaggedSchema = z
  .object({
    /** Detectors to run (default: all); `[]` turns detection off. */
    detect: z
      .array(z.enum(DETECTOR_NAMES))
      .refine((d) => new Set(d).size === d.length, 'detectors must not repeat')
      .default([...DETECTOR_NAMES]),
    /**
     * `scrub` (default): findings are replaced as a `scrub` rule with `replace: tag` would; `quarantine`: the
     * record fails closed (MASKER_UNTAGGED_PII); `alert`: the value passes through, counted and audited.
     */
    onDetected: z.enum(['scrub', 'quarantine', 'alert']).default('scrub'),
  })
  .strict();

const policySchema = z
  .object({
    apiVersion: z.literal('masker/v1'),
    kind: z.literal('MaskingPolicy'),
    name: z.string().regex(NAME, NAME_MESSAGE),
    description: z.string().optional(),
    /** A field carrying any of these tags (or any tag a rule names) is sensitive. */
    sensitiveTags: z.array(z.string().regex(TAG, 'expected a tag such as PII')).default(['PII']),
    /** What happens to a sensitive field no enabled rule covers. */
    onUnmatchedSensitive: z.enum(['redact', 'quarantine']).default('redact'),
    /** Envelope fields (Debezium metadata outside `before`/`after`). Default `{ freeText: scrub }`. */
    envelope: envelopeSchema.default({}),
    /** PII in fields no rule masks. Default `{ detect: [all detectors], onDetected: scrub }`. */
    untagged: untaggedSchema.default({}),
    /**
     * Leaves a writer schema brings that no approved schema of the subject had, when no rule or tag covers
     * them: `redact-until-approved` (default; `masker schema approve`), `quarantine` the records, or `pass`.
     */
    newFields: z.enum(['redact-until-approved', 'quarantine', 'pass']).default('redact-until-approved'),
    /** First enabled matching rule wins, per leaf field. */
    rules: z.array(ruleSchema),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.rules.forEach((rule, i) => {
      const first = seen.get(rule.name);
      if (first !== undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}" (also rules[${first}])` });
      } else {
        seen.set(rule.name, i);
      }
    });
  });

export type Policy = z.output<typeof policySchema>;
export type Rule = Policy['rules'][number];
/** A rule's action together with its (defaulted) params: narrow on `action`. */
export type RuleAction = Pick<Rule, 'action' | 'params'>;
export type RuleMatch = Rule['match'];
/** `envelope.freeText`: what happens to an untagged free-text envelope field such as `source.query`. */
export type EnvelopeFreeText = Policy['envelope']['freeText'];

export interface PolicyIssue {
  /** JSON path at fault, e.g. `rules[2].params.keepFirst`; `(root)` for the document itself. */
  readonly path: string;
  readonly message: string;
}

/** A policy document failed strict validation. `issues` lists every problem with its JSON path. */
export class PolicyValidationError extends MaskerError {
  readonly issues: readonly PolicyIssue[];
  readonly origin: string;

  constructor(origin: string, issues: readonly PolicyIssue[]) {
    const lines = issues.map((i) => `${origin}: ${i.path}: ${i.message}`);
    super('MASKER_POLICY_INVALID', `policy ${origin} is invalid (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`);
    this.name = 'PolicyValidationError';
    this.issues = issues;
    this.origin = origin;
  }
}

/**
 * Validates a policy document (parsed YAML/JSON) strictly: unknown keys, unknown actions and bad params are
 * rejected with the JSON path at fault. `origin` (file name, Redis key) prefixes every message.
 */
export function parsePolicy(doc: unknown, origin: string): Policy {
  const result = policySchema.safeParse(doc);
  if (result.success) return result.data;
  throw new PolicyValidationError(origin, toIssues(result.error));
}

function toIssues(error: z.ZodError): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) issues.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
    } else if (issue.code === z.ZodIssueCode.invalid_union && issue.unionErrors.length > 0) {
      // `path: "a"` or `path: ["a"]`: report the alternative that got furthest.
      const best = issue.unionErrors
        .map((e) => e.issues)
        .sort((a, b) => depth(b) - depth(a))[0];
      if (best !== undefined && best.length > 0) issues.push(...toIssues(new z.ZodError(best)));
      else issues.push({ path: formatPath(issue.path), message: issue.message });
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return issues;
}

function depth(issues: readonly z.ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

/** `['rules', 2, 'params', 'keepFirst']` → `rules[2].params.keepFirst`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(part)) out += `[${JSON.stringify(part)}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}
/** `untagged.onDetected`: what happens when a detector finds PII in a field no rule masks. */
export type OnDetected = Policy['untagged']['onDetected'];
/** `newFields`: what happens to leaves of a writer schema that are not approved yet. */
export type NewFieldsMode = Policy['newFields'];
