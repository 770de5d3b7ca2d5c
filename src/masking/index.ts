/**
 * The masking engine: pure (no I/O). Policy model and validation, field discovery, plan compiler,
 * operators and detectors. See docs/policy-language.md.
 */
export { parsePolicy, PolicyValidationError, formatPath, MATCHABLE_TYPES } from './policy.js';
export type { Policy, Rule, RuleAction, RuleMatch, PolicyIssue, ActionName, NewFieldsMode, OnDetected } from './policy.js';
export { ACTION_NAMES, DETECTOR_NAMES, PSEUDONYM_FORMATS } from './policy-params.js';
export type { DetectorName, PseudonymFormat } from './policy-params.js';
export { compilePlan, analyzePlan } from './plan.js';
export type { PlanAnalysis } from './plan.js';
export type { CompiledPlan } from './compiled-plan.js';
export { ENVELOPE_FREE_TEXT_RULE, NEW_FIELD_RULE, UNMATCHED_RULE } from './plan-types.js';
export type { FieldDecision, PlanOptions, PlanIssue } from './plan-types.js';
export { countEncodedRecords, maskEncoded, maskRecord } from './apply.js';
export { compileRecordEnd } from './record-end.js';
export type { RecordEnd } from './record-end.js';
export { PlanCache, detectEnvelope } from './plan-cache.js';
export type { PlanEntry, PlanPolicy, PlanSchema } from './plan-cache.js';
export type { Detection, EncodedMaskResult, MaskResult } from './apply.js';
export { discoverFields } from './discovery.js';
export type { DiscoveredField, DiscoverOptions, Envelope } from './discovery.js';
export type { KeyRing, MaskingKey } from './keys.js';
export { UntaggedPiiError } from './actions/detect-untagged.js';
export { compileFieldScanner, TAGS_ONLY_POLICY } from './field-scanner.js';
export type { Coverage, FieldScanner, FieldScanOptions, FieldScope, SchemaField, Verdict } from './field-scanner.js';
export { FieldScanAccumulator, fieldVerdict, summarizeFields, DETECTOR_KINDS } from './field-scan.js';
export type { FieldHits, FieldReport, FieldScanSummary } from './field-scan.js';
export { fieldNameHints, leafNameHints, splitFieldName, PII_KINDS } from './field-name-hints.js';
export type { PiiKind } from './field-name-hints.js';
export { suggestPolicy, suggestTags } from './scan-suggestions.js';
export type { PolicySuggestion, SuggestedRule, SuggestionSchema, TagSuggestion } from './scan-suggestions.js';
