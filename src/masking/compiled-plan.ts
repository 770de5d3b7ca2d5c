import type { Type } from 'avsc';
import { KeyedHasher } from './crypto/keyed-hash.js';
import type { Envelope } from './discovery.js';
import type { MaskingKey } from './keys.js';
import type { FieldDecision, PlanIssue, QuarantineCode } from './plan-types.js';
import type { Decided } from './plan-walk.js';
import type { OnDetected } from './policy.js';
import type { KeyState, ShiftRuntime } from './record-context.js';
import { newKeyState, RecordContext } from './record-context.js';
import type { SchemaNode } from './schema-tree.js';
import type { Transcoder } from './transcode.js';
import { compileTranscoder } from './transcode.js';

/** What the plan compiler hands to a compiled plan (plan.ts). */
export interface PlanParts {
  readonly schema: Type;
  readonly envelope: Envelope;
  readonly policyName: string;
  readonly policyVersion: number | undefined;
  readonly decisions: readonly FieldDecision[];
  readonly warnings: readonly PlanIssue[];
  readonly scannedPaths: readonly string[];
  readonly quarantine: { readonly quarantineCode: QuarantineCode; readonly quarantineReason: string } | undefined;
  readonly tree: SchemaNode;
  readonly decided: Decided;
  readonly domains: readonly string[];
  readonly shiftSpecs: readonly ShiftRuntime[];
  readonly resultCacheCount: number;
  readonly onDetected: OnDetected;
}

/**
 * A policy compiled for one schema: what it decided (public, for the audit and `policy validate`) and
 * everything that runs it, built once — the schema tree and the work decided per leaf node, keyed-hash
 * domains, date-shift slots (with their entity readers), the byte transcoder — plus per masking key the
 * hashers and result caches (a key rotation adds one entry). Made by `compilePlan` / `analyzePlan` only;
 * immutable apart from the per-key state, which only ever caches.
 */
export class CompiledPlan {
  readonly schema: Type;
  readonly envelope: Envelope;
  readonly policyName: string;
  readonly policyVersion: number | undefined;
  readonly decisions: readonly FieldDecision[];
  /**
   * Set when every record of the schema must fail closed: a sensitive field without a rule under
   * onUnmatchedSensitive: quarantine, or unapproved new fields under newFields: quarantine.
   */
  readonly quarantineReason?: string;
  /** The error code of `quarantineReason`. */
  readonly quarantineCode?: QuarantineCode;
  /** Full paths of the unmasked string leaves the safety net scans (`untagged.detect`), by scan slot. */
  readonly scannedPaths: readonly string[];
  /** Rules that never match a field of this schema, sensitive fields redacted by default, … */
  readonly warnings: readonly PlanIssue[];

  /** The schema tree the plan was compiled on (names paths in errors; the engine walks it). */
  readonly tree: SchemaNode;
  /** The work decided per leaf node of the tree: scalar nodes, and union nodes for union leaves. */
  readonly decided: Decided;
  /** Keyed-hash domains, by domain slot. */
  readonly domains: readonly string[];
  /** Date-shift slots: entity reader, domain slot, maxDays. */
  readonly shiftSpecs: readonly ShiftRuntime[];
  /** What the safety net does with its findings (the outcome the audit names). */
  readonly onDetected: OnDetected;
  /** The byte path: steps for the leaves with work, skippers for the rest. */
  readonly transcoder: Transcoder;
  private readonly resultCacheCount: number;
  /** Hashers and caches per key object: built on first use of a key. */
  private readonly byKey = new Map<MaskingKey, KeyState>();

  constructor(parts: PlanParts) {
    this.schema = parts.schema;
    this.envelope = parts.envelope;
    this.policyName = parts.policyName;
    this.policyVersion = parts.policyVersion;
    this.decisions = parts.decisions;
    this.warnings = parts.warnings;
    this.scannedPaths = parts.scannedPaths;
    if (parts.quarantine !== undefined) {
      this.quarantineReason = parts.quarantine.quarantineReason;
      this.quarantineCode = parts.quarantine.quarantineCode;
    }
    this.tree = parts.tree;
    this.decided = parts.decided;
    this.domains = parts.domains;
    this.shiftSpecs = parts.shiftSpecs;
    this.onDetected = parts.onDetected;
    this.resultCacheCount = parts.resultCacheCount;
    this.transcoder = compileTranscoder(parts.tree, parts.decided, parts.envelope);
  }

  /** A fresh context for masking one record with `key`: the key's hashers and caches, empty marks. */
  recordContext(key: MaskingKey): RecordContext {
    return new RecordContext(this.keyState(key), this.shiftSpecs, this.decisions.length, this.scannedPaths.length);
  }

  private keyState(key: MaskingKey): KeyState {
    let state = this.byKey.get(key);
    if (state === undefined) {
      const secret = key.secret;
      state = newKeyState(this.domains.map((domain) => new KeyedHasher(secret, domain)), this.resultCacheCount, this.shiftSpecs.length);
      this.byKey.set(key, state);
    }
    return state;
  }
}
