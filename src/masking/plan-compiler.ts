import type { ActionEnv, CompiledAction } from './actions/action-types.js';
import { compileAction } from './actions/compile-action.js';
import { compileDetect } from './actions/detect-untagged.js';
import type { Leaf } from './discovery.js';
import { entityReader } from './entity-reader.js';
import type { LeafOp, LeafWork } from './leaf-operator.js';
import { displayPath } from './path-glob.js';
import type { FieldDecision, PlanIssue, PlanOptions, QuarantineCode } from './plan-types.js';
import { ENVELOPE_FREE_TEXT_RULE, NEW_FIELD_RULE, UNMATCHED_RULE } from './plan-types.js';
import type { EnvelopeFreeText, Policy, Rule } from './policy.js';
import { DETECTOR_NAMES, scrubParams } from './policy-params.js';
import type { ShiftRuntime } from './record-context.js';
import type { RuleMatcher } from './rule-select.js';
import { compileRuleMatchers, selectRule, sensitiveTagSet } from './rule-select.js';
import type { RecordNode, ScalarNode } from './schema-tree.js';
import { describeScalar } from './schema-tree.js';

/** What `envelope.freeText` does, as a rule with the pseudo-name `(envelopeFreeText)`. */
function freeTextRule(mode: EnvelopeFreeText): Rule {
  const base = { name: ENVELOPE_FREE_TEXT_RULE, match: { tags: ['PII'] } };
  switch (mode) {
    case 'scrub':
      return { ...base, action: 'scrub', params: scrubParams.parse({ detectors: [...DETECTOR_NAMES], replace: 'tag' }) };
    case 'redact':
      return { ...base, action: 'redact', params: {} };
    case 'keep':
      return { ...base, action: 'keep', params: { reason: 'envelope.freeText: keep' } };
  }
}

const FREE_TEXT_OUTCOME: Readonly<Record<EnvelopeFreeText, string>> = {
  scrub: 'scrubbed',
  redact: 'redacted',
  keep: 'passes through unmasked',
};

const UNMATCHED_REDACT: Rule = { name: UNMATCHED_RULE, match: { tags: ['PII'] }, action: 'redact', params: {} };
const NEW_FIELD_REDACT: Rule = { name: NEW_FIELD_RULE, match: { tags: ['PII'] }, action: 'redact', params: {} };

/** Pseudo rule indexes of the result caches (real rules count from 0). */
const UNMATCHED_INDEX = -1;
const FREE_TEXT_INDEX = -2;
const NEW_FIELD_INDEX = -3;

/** A plan error found while compiling one leaf's action (the leaf's message names field and rule). */
class PlanProblem extends Error {}

/**
 * Decides the leaves of one schema under one policy, one call per leaf in schema order (see plan-walk.ts):
 * the rule each leaf gets (or the safety net, or nothing), its compiled operators, and what the plan
 * needs to run them — decisions, keyed-hash domains, date-shift slots, result caches, scanned paths —
 * plus every plan error and warning. Pure: it holds no record and builds no closure over one.
 */
export class PlanCompiler {
  readonly errors: PlanIssue[] = [];
  readonly warnings: PlanIssue[] = [];
  readonly decisions: FieldDecision[] = [];
  /** Keyed-hash domains, by slot. */
  readonly domains: string[] = [];
  readonly shiftSpecs: ShiftRuntime[] = [];
  /** Full paths of the string leaves the safety net scans, by scan slot. */
  readonly scanPaths: string[] = [];
  private readonly domainSlots = new Map<string, number>();
  private readonly shiftSlots = new Map<string, number>();
  private readonly resultSlots = new Map<string, number>();
  private readonly matchers: readonly RuleMatcher[];
  private readonly sensitiveTags: ReadonlySet<string>;
  private readonly disabled: ReadonlySet<string>;
  private readonly heldPaths: ReadonlySet<string>;
  private readonly freeText: Rule;
  private readonly quarantinePaths: string[] = [];
  private readonly newFieldPaths: string[] = [];
  private readonly matchedRules = new Set<number>();
  private readonly chosenRules = new Set<number>();
  /** Per rule: untagged envelope leaves it matches but never touches (for its "matches nothing" warning). */
  private readonly ignoredMatches = new Map<number, Leaf[]>();

  constructor(private readonly policy: Policy, options: PlanOptions) {
    this.matchers = compileRuleMatchers(policy);
    this.sensitiveTags = sensitiveTagSet(policy);
    this.disabled = options.disabledRules ?? new Set<string>();
    this.heldPaths = options.heldPaths ?? new Set<string>();
    this.freeText = freeTextRule(policy.envelope.freeText);
  }

  /** Number of result caches (one per distinct costly string operator). */
  get resultCacheCount(): number {
    return this.resultSlots.size;
  }

  /** Decides one leaf (`scope`: the row entity paths are relative to); undefined: it passes through. */
  decide(leaf: Leaf, scope: RecordNode | undefined): LeafWork | undefined {
    const selection = selectRule(leaf, this.matchers, this.sensitiveTags, this.disabled);
    for (const i of selection.matching) this.matchedRules.add(i);
    for (const i of selection.ignored) this.ignoredMatches.set(i, [...(this.ignoredMatches.get(i) ?? []), leaf]);
    const choice = selection.choice;
    switch (choice.kind) {
      case 'none':
        return this.untouched(leaf, scope);
      case 'freeText':
        return this.envelopeFreeText(leaf, scope);
      case 'unmatched':
        return this.unmatched(leaf, scope);
      case 'rule': {
        const { rule, index } = choice.matcher;
        this.chosenRules.add(index);
        const work = this.compileLeaf(leaf, scope, rule, index);
        if (work !== undefined && leaf.envelope) {
          const path = displayPath(leaf.path);
          this.warn(path, `${sensitiveField(leaf)}: rule "${rule.name}" (${rule.action})`, rule.name);
        }
        return work;
      }
    }
  }

  /** Warnings for rules that never match a field, or never apply; call once every leaf is decided. */
  ruleWarnings(): void {
    this.policy.rules.forEach((rule, i) => {
      if (!this.matchedRules.has(i)) {
        this.warnings.push({ severity: 'warning', rule: rule.name, message: `rules[${i}] "${rule.name}" matches no maskable field of this schema${ignoredNote(this.ignoredMatches.get(i))}` });
      } else if (!this.chosenRules.has(i) && !this.disabled.has(rule.name)) {
        this.warnings.push({ severity: 'warning', rule: rule.name, message: `rules[${i}] "${rule.name}" never applies: every field it matches is taken by an earlier rule` });
      }
    });
  }

  /** Why every record of the schema fails closed, if it does: unmatched sensitive fields first. */
  quarantine(): { readonly quarantineCode: QuarantineCode; readonly quarantineReason: string } | undefined {
    if (this.quarantinePaths.length > 0) {
      return { quarantineCode: 'MASKER_UNMATCHED_SENSITIVE', quarantineReason: `sensitive field(s) without an enabled rule: ${this.quarantinePaths.join(', ')} (onUnmatchedSensitive: quarantine)` };
    }
    if (this.policy.newFields === 'quarantine' && this.newFieldPaths.length > 0) {
      return { quarantineCode: 'MASKER_NEW_FIELDS', quarantineReason: `new field(s) not approved yet: ${this.newFieldPaths.join(', ')} (newFields: quarantine; masker schema approve)` };
    }
    return undefined;
  }

  /** A leaf no rule covers: held when new and not approved, else the safety net's scan (if any). */
  private untouched(leaf: Leaf, scope: RecordNode | undefined): LeafWork | undefined {
    const path = displayPath(leaf.path);
    const newFields = this.policy.newFields;
    if (!this.heldPaths.has(path) || newFields === 'pass') return this.scanLeaf(leaf, path);
    this.newFieldPaths.push(path);
    if (newFields === 'quarantine') {
      this.warn(path, `field ${path} is new in this schema and not approved: every record is quarantined (newFields: quarantine)`);
      return undefined;
    }
    this.warn(path, `field ${path} is new in this schema and not approved: redacted until approved (newFields: redact-until-approved)`);
    return this.compileLeaf(leaf, scope, NEW_FIELD_REDACT, NEW_FIELD_INDEX);
  }

  private envelopeFreeText(leaf: Leaf, scope: RecordNode | undefined): LeafWork | undefined {
    const mode = this.policy.envelope.freeText;
    const work = this.compileLeaf(leaf, scope, this.freeText, FREE_TEXT_INDEX);
    if (work !== undefined) {
      const path = displayPath(leaf.path);
      this.warn(path, `field ${path} is free text in the Debezium envelope: ${FREE_TEXT_OUTCOME[mode]} (envelope.freeText: ${mode})`, ENVELOPE_FREE_TEXT_RULE);
    }
    return work;
  }

  /** A sensitive leaf no enabled rule covers: onUnmatchedSensitive. */
  private unmatched(leaf: Leaf, scope: RecordNode | undefined): LeafWork | undefined {
    const path = displayPath(leaf.path);
    if (this.policy.onUnmatchedSensitive === 'quarantine') {
      this.quarantinePaths.push(path);
      this.warn(path, `${sensitiveField(leaf)} but no enabled rule covers it: every record is quarantined (onUnmatchedSensitive: quarantine)`);
      return undefined;
    }
    this.warn(path, `${sensitiveField(leaf)} but no enabled rule covers it: redacted (onUnmatchedSensitive: redact)`);
    return this.compileLeaf(leaf, scope, UNMATCHED_REDACT, UNMATCHED_INDEX);
  }

  /** The safety net on a string leaf no rule masks (absent when detection is off or the leaf holds no string). */
  private scanLeaf(leaf: Leaf, path: string): LeafWork | undefined {
    const { detect, onDetected } = this.policy.untagged;
    if (detect.length === 0) return undefined;
    const ops = new Map<ScalarNode, LeafOp>();
    const slot = this.scanPaths.length;
    for (const scalar of leaf.scalars) {
      if (scalar.scalar === 'string' && scalar.logicalType !== 'uuid') {
        ops.set(scalar, { op: compileDetect(detect, onDetected, slot, path), cacheSlot: undefined, constant: false });
      }
    }
    if (ops.size === 0) return undefined;
    this.scanPaths.push(path);
    return { decisionIndex: undefined, scanOnly: true, label: `${path} (untagged)`, ops };
  }

  /** A rule's operators for every scalar branch of the leaf, or undefined after a plan error. */
  private compileLeaf(leaf: Leaf, scope: RecordNode | undefined, rule: Rule, ruleIndex: number): LeafWork | undefined {
    const path = displayPath(leaf.path);
    const fail = (message: string): undefined => {
      this.errors.push({ severity: 'error', path, rule: rule.name, message: `field ${path}: rule "${rule.name}" (${rule.action}) ${message}` });
      return undefined;
    };
    if (rule.action === 'nullify' && !leaf.nullable) {
      return fail(`cannot apply: expects a nullable field (union with null), found ${leaf.scalars.map(describeScalar).join(' | ')}`);
    }
    const ops = new Map<ScalarNode, LeafOp>();
    for (const scalar of leaf.scalars) {
      let compiled: CompiledAction;
      try {
        compiled = compileAction(rule, this.actionEnv(leaf, scope, rule, scalar, path));
      } catch (err) {
        if (err instanceof PlanProblem) return fail(err.message);
        throw err;
      }
      if ('expects' in compiled) return fail(`cannot apply: expects ${compiled.expects}, found ${describeScalar(scalar)}`);
      const cacheSlot = compiled.costly && scalar.scalar === 'string' ? this.resultSlot(`${ruleIndex}|${scalar.logicalType ?? ''}`) : undefined;
      ops.set(scalar, { op: compiled.op, cacheSlot, constant: compiled.constant === true });
    }
    const decisionIndex = this.decisions.push({ path, action: rule.action, rule: rule.name }) - 1;
    return { decisionIndex, label: `${path} (rule ${rule.name})`, ops };
  }

  private actionEnv(leaf: Leaf, scope: RecordNode | undefined, rule: Rule, scalar: ScalarNode, path: string): ActionEnv {
    return {
      rule,
      scalar,
      leaf,
      domainSlot: (domain) => this.domainSlot(domain),
      shiftSlot: (entityPath, domain, maxDays) => {
        if (leaf.envelope && entityPath !== undefined) {
          throw new PlanProblem(`entityPath ${entityPath} is relative to a row, and ${path} is an envelope field outside the rows (use date-shift without entityPath for it)`);
        }
        return this.shiftSlot(scope, entityPath, domain, maxDays);
      },
    };
  }

  /** Equal operators (same rule, same string type) share one result cache: `before.x` and `after.x`. */
  private resultSlot(key: string): number {
    let slot = this.resultSlots.get(key);
    if (slot === undefined) {
      slot = this.resultSlots.size;
      this.resultSlots.set(key, slot);
    }
    return slot;
  }

  private domainSlot(domain: string): number {
    let slot = this.domainSlots.get(domain);
    if (slot === undefined) {
      slot = this.domains.push(domain) - 1;
      this.domainSlots.set(domain, slot);
    }
    return slot;
  }

  private shiftSlot(scope: RecordNode | undefined, entityPath: string | undefined, domain: string, maxDays: number): number {
    const key = `${scope?.typeName ?? ''}|${entityPath ?? ''}|${domain}|${maxDays}`;
    let slot = this.shiftSlots.get(key);
    if (slot === undefined) {
      const read = entityReader(scope, entityPath);
      if (typeof read === 'string') throw new PlanProblem(read);
      slot = this.shiftSpecs.push({ readEntity: read, domainSlot: this.domainSlot(domain), maxDays, scope, entityPath }) - 1;
      this.shiftSlots.set(key, slot);
    }
    return slot;
  }

  private warn(path: string, message: string, rule?: string): void {
    this.warnings.push({ severity: 'warning', path, ...(rule === undefined ? {} : { rule }), message });
  }
}

/** How a sensitive leaf is named in warnings: envelope fields say so. */
function sensitiveField(leaf: Leaf): string {
  const path = displayPath(leaf.path);
  return leaf.envelope ? `field ${path} is tagged ${leaf.tags.join(', ')} in the envelope` : `field ${path} is sensitive (tags ${leaf.tags.join(', ')})`;
}

/** Why a rule that matches only untagged envelope fields masks nothing. */
function ignoredNote(leaves: readonly Leaf[] | undefined): string {
  if (leaves === undefined || leaves.length === 0) return '';
  const paths = leaves.map((l) => displayPath(l.path));
  const shown = paths.length > 4 ? `${paths.slice(0, 4).join(', ')} and ${paths.length - 4} more` : paths.join(', ');
  const freeText = leaves.some((l) => l.freeText) ? '; envelope.freeText decides free text such as source.query' : '';
  return ` (it matches untagged envelope field(s) ${shown}, which rules never touch: only tagged envelope fields are masked by rules${freeText})`;
}
