import type { Leaf } from './discovery.js';
import type { GlobMatcher } from './path-glob.js';
import { compileGlob } from './path-glob.js';
import type { Policy, Rule } from './policy.js';
import { scalarTypeNames } from './schema-tree.js';

/** A rule's `match` compiled once per plan: tag set, glob matchers, anchored name regex, type set. */
export interface RuleMatcher {
  readonly rule: Rule;
  readonly index: number;
  matches(leaf: Leaf): boolean;
}

export function compileRuleMatchers(policy: Policy): RuleMatcher[] {
  return policy.rules.map((rule, index) => {
    const m = rule.match;
    const tags = m.tags === undefined ? undefined : new Set(m.tags);
    const globs: GlobMatcher[] | undefined = m.path?.map(compileGlob);
    const name = m.name === undefined ? undefined : new RegExp(`^(?:${m.name})$`, 'i');
    const types = m.type === undefined ? undefined : new Set<string>(m.type);
    const matches = (leaf: Leaf): boolean => {
      if (tags !== undefined && !leaf.tags.some((t) => tags.has(t))) return false;
      if (globs !== undefined && !globs.some((g) => g.matches(leaf.matchTokens))) return false;
      if (name !== undefined && (leaf.name === undefined || !name.test(leaf.name))) return false;
      if (types !== undefined && !leaf.scalars.some((s) => scalarTypeNames(s).some((t) => types.has(t)))) return false;
      return true;
    };
    return { rule, index, matches };
  });
}

/** Tags that make a field sensitive: the policy's sensitiveTags plus every tag any rule names. */
export function sensitiveTagSet(policy: Policy): ReadonlySet<string> {
  const tags = new Set(policy.sensitiveTags);
  for (const rule of policy.rules) for (const t of rule.match.tags ?? []) tags.add(t);
  return tags;
}

export type LeafChoice =
  | { readonly kind: 'rule'; readonly matcher: RuleMatcher }
  | { readonly kind: 'unmatched' }
  /** An untagged free-text envelope field (`source.query`): the policy's `envelope.freeText`. */
  | { readonly kind: 'freeText' }
  | { readonly kind: 'none' };

export interface LeafSelection {
  readonly choice: LeafChoice;
  readonly sensitive: boolean;
  /** Indexes of every rule whose match covers the leaf (enabled or not), for `policy validate`. */
  readonly matching: readonly number[];
  /**
   * Indexes of rules whose match covers an untagged envelope leaf, which rules never touch (so a
   * `type: [string]` rule cannot clobber `op`): `policy validate` says why such a rule matches nothing.
   */
  readonly ignored: readonly number[];
}

/**
 * First enabled matching rule wins. A sensitive leaf with no enabled rule is `unmatched` (→
 * onUnmatchedSensitive). A toggle can never make a sensitive field pass through: when an earlier matching
 * rule is disabled and the next enabled match is `keep`, the leaf is `unmatched` instead.
 *
 * Envelope leaves (Debezium metadata outside the rows) are considered only when sensitive, with the same
 * rules (matched on their full path); an untagged one is `freeText` when it is a known free-text field,
 * else `none` whatever the rules say.
 */
export function selectRule(
  leaf: Leaf,
  matchers: readonly RuleMatcher[],
  sensitiveTags: ReadonlySet<string>,
  disabledRules: ReadonlySet<string>,
): LeafSelection {
  const sensitive = leaf.tags.some((t) => sensitiveTags.has(t));
  if (leaf.envelope && !sensitive) {
    const ignored = matchers.filter((m) => m.matches(leaf)).map((m) => m.index);
    return { choice: leaf.freeText ? { kind: 'freeText' } : { kind: 'none' }, sensitive, matching: [], ignored };
  }
  const matching: number[] = [];
  let chosen: RuleMatcher | undefined;
  let skippedDisabled = false;
  for (const matcher of matchers) {
    if (!matcher.matches(leaf)) continue;
    matching.push(matcher.index);
    if (chosen !== undefined) continue;
    if (disabledRules.has(matcher.rule.name)) skippedDisabled = true;
    else chosen = matcher;
  }
  if (chosen !== undefined && !(sensitive && skippedDisabled && chosen.rule.action === 'keep')) {
    return { choice: { kind: 'rule', matcher: chosen }, sensitive, matching, ignored: [] };
  }
  return { choice: sensitive ? { kind: 'unmatched' } : { kind: 'none' }, sensitive, matching, ignored: [] };
}
