import type { Envelope } from './discovery.js';
import type { ActionName } from './policy.js';

/** The vocabulary of plans, shared by the compiler and the compiled plan: options, decisions, issues. */

export interface PlanOptions {
  /**
   * `debezium`: rows (`before`/`after`) are masked with rule paths relative to the row; other envelope
   * fields only where tagged (full paths) or known free text (`source.query`). `none`: the whole value.
   */
  readonly envelope: Envelope;
  /** The schema JSON (object or text). Required: avsc drops `confluent:tags` and logical types. */
  readonly schemaJson: unknown;
  /** Rules toggled off. Their fields fall to the next enabled rule or to onUnmatchedSensitive. */
  readonly disabledRules?: ReadonlySet<string>;
  /** For messages only. */
  readonly policyVersion?: number;
  /**
   * Full paths (as in decisions: `after.secondary_email`, `extra{}`) of leaves this writer schema brings that
   * no approved schema of its subject had. Where no rule or tag covers them, `newFields` applies.
   */
  readonly heldPaths?: ReadonlySet<string>;
}

/** What happens to one leaf: recorded in the audit when the leaf was present (non-null) in a record. */
export interface FieldDecision {
  readonly path: string;
  readonly action: ActionName;
  /**
   * The rule name, `(unmatchedSensitive)` for a sensitive field no enabled rule covers, or
   * `(envelopeFreeText)` for an untagged free-text envelope field (`source.query`, per envelope.freeText).
   */
  readonly rule: string;
}

export const UNMATCHED_RULE = '(unmatchedSensitive)';
/** The rule name of a new, not yet approved leaf redacted by `newFields: redact-until-approved`. */
export const NEW_FIELD_RULE = '(newField)';
export const ENVELOPE_FREE_TEXT_RULE = '(envelopeFreeText)';

export interface PlanIssue {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly path?: string;
  readonly rule?: string;
}

/** Why every record of a schema fails closed, with its error code. */
export type QuarantineCode = 'MASKER_UNMATCHED_SENSITIVE' | 'MASKER_NEW_FIELDS';
