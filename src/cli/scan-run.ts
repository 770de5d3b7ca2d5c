import type { Type } from 'avsc';
import type { Envelope, FieldScanner, Policy, SuggestionSchema } from '../masking/index.js';
import { compileFieldScanner, detectEnvelope, FieldScanAccumulator, summarizeFields } from '../masking/index.js';
import type { EnvelopeOption } from './mask-command.js';
import type { ScanFailure, ScanPolicyInfo, ScanReport, ScanSource } from './scan-report.js';
import { outcomeOf } from './scan-report.js';

const EXAMPLES_PER_FAILURE = 3;

export interface ResolvedPolicy {
  readonly policy: Policy;
  readonly disabledRules: ReadonlySet<string>;
  readonly info: ScanPolicyInfo;
}

interface ScannedSchema extends SuggestionSchema {
  readonly id: number | undefined;
}

/** The state of one scan: counts, failures per reason, schemas seen. Holds no value. */
export class ScanRun {
  readonly acc = new FieldScanAccumulator();
  readonly schemas: ScannedSchema[] = [];
  readonly planErrors: string[] = [];
  readonly notes: string[] = [];
  private readonly failures = new Map<string, { code: string; what: string; count: number; where: string[] }>();
  read = 0;
  decoded = 0;
  tombstones = 0;
  failed = 0;

  constructor(readonly policy: ResolvedPolicy | undefined, readonly envelopeOption: EnvelopeOption) {}

  /** Compiles a schema for scanning and registers its fields (MASKER_PLAN when the engine cannot handle it). */
  addSchema(id: number | undefined, type: Type, json: unknown): FieldScanner {
    const envelope: Envelope = this.envelopeOption === 'auto' ? detectEnvelope(json) : this.envelopeOption;
    const scanner = compileFieldScanner(type, {
      schemaJson: json,
      envelope,
      ...(this.policy === undefined ? {} : { policy: this.policy.policy, disabledRules: this.policy.disabledRules }),
    });
    this.acc.addSchema(scanner);
    this.schemas.push({ id, type, json, envelope });
    const label = id === undefined ? '' : `schema id ${id}: `;
    for (const e of scanner.planErrors) this.planErrors.push(`${label}${e.message}`);
    return scanner;
  }

  record(scanner: FieldScanner, record: unknown): void {
    this.acc.addRecord(scanner, record);
    this.decoded++;
  }

  fail(code: string, what: string, where: string): void {
    this.failed++;
    const key = `${code}\u0000${what}`;
    const entry = this.failures.get(key) ?? { code, what, count: 0, where: [] };
    entry.count++;
    if (entry.where.length < EXAMPLES_PER_FAILURE) entry.where.push(where);
    this.failures.set(key, entry);
  }

  report(source: ScanSource, requested: number | null): ScanReport {
    const fields = this.acc.fields();
    const summary = summarizeFields(fields);
    const envelopes = [...new Set(this.schemas.map((s) => s.envelope))];
    const failures: ScanFailure[] = [...this.failures.values()];
    return {
      schema: 'masker.scan/v1',
      source,
      policy: this.policy?.info ?? null,
      envelope: envelopes.length === 0 ? this.envelopeOption : envelopes.join(', '),
      records: { requested, read: this.read, decoded: this.decoded, tombstones: this.tombstones, failed: this.failed },
      failures,
      schemaIds: this.schemas.flatMap((s) => (s.id === undefined ? [] : [s.id])).sort((a, b) => a - b),
      planErrors: this.planErrors,
      fields,
      summary,
      notes: this.notes,
      outcome: outcomeOf(this.read, this.decoded, summary),
    };
  }
}

