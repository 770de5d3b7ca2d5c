import type { Command } from 'commander';
import { Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { yamlProblem } from '../config/yaml-problem.js';
import { describeError, MaskerError } from '../errors.js';
import type { FieldDecision, PlanIssue, Policy } from '../masking/index.js';
import { analyzePlan, detectEnvelope, parsePolicy, PolicyValidationError } from '../masking/index.js';
import type { CliIo, EnvelopeOption } from './mask-command.js';
import { loadSchemaFile, processIo } from './mask-command.js';

export interface PolicyValidateOptions {
  readonly schema?: string;
  readonly envelope?: EnvelopeOption;
  /** `--explain` (needs `--schema`): list every field decision the plan counted: path, action, rule. */
  readonly explain?: boolean;
}

export interface ValidationReport {
  readonly errors: number;
  readonly warnings: number;
}

/**
 * `masker policy validate FILE [--schema S.avsc]`: reports every problem of a policy with its JSON path —
 * strict validation errors; with a schema also plan errors (an action that cannot apply to a field's type:
 * error) and rules that never match a field or never apply, sensitive fields left to onUnmatchedSensitive
 * (warnings). With a Debezium envelope every tagged or free-text envelope field (outside before/after) is
 * reported with what happens to it (warnings): `field source.query is free text in the Debezium envelope:
 * scrubbed (envelope.freeText: scrub)`. `envelope.freeText: keep` is reported even without a schema.
 * Writes one line per issue to stdout; returns the counts. With `explain`, the field decisions follow (one
 * line each: path, action, rule) before the summary line that counts them.
 */
export function validatePolicyCommand(file: string, options: PolicyValidateOptions, io: CliIo): ValidationReport {
  if (options.explain === true && options.schema === undefined) {
    throw new MaskerError('MASKER_INPUT', '--explain lists the field decisions of a schema: pass --schema S.avsc too');
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${file}: ${yamlProblem(cause)}`, { cause });
  }
  let policy: Policy;
  try {
    policy = parsePolicy(doc, file);
  } catch (err) {
    if (!(err instanceof PolicyValidationError)) throw err;
    for (const issue of err.issues) io.stdout.write(`${file}: error: ${issue.path}: ${issue.message}\n`);
    io.stdout.write(`${file}: invalid: ${err.issues.length} error(s)\n`);
    return { errors: err.issues.length, warnings: 0 };
  }
  if (options.schema === undefined) {
    // An explicit pass-through of free text full of row values: said even when no schema is given.
    const keepsFreeText = policy.envelope.freeText === 'keep';
    if (keepsFreeText) {
      io.stdout.write(`${file}: warning: envelope.freeText: keep: Debezium free-text envelope fields (source.query) pass through unmasked unless tagged\n`);
    }
    io.stdout.write(`${file}: valid (${policy.rules.length} rule(s)); pass --schema to check it against a schema\n`);
    return { errors: 0, warnings: keepsFreeText ? 1 : 0 };
  }
  const schema = loadSchemaFile(options.schema);
  const envelope = options.envelope === undefined || options.envelope === 'auto' ? detectEnvelope(schema.json) : options.envelope;
  const analysis = analyzePlan(schema.type, policy, { envelope, schemaJson: schema.json });
  const print = (issue: PlanIssue): void => void io.stdout.write(`${file}: ${issue.severity}: ${issue.message}\n`);
  analysis.errors.forEach(print);
  analysis.warnings.forEach(print);
  if (options.explain === true && analysis.plan !== undefined) writeDecisions(analysis.plan.decisions, io);
  const verdict = analysis.errors.length === 0 ? 'valid' : 'invalid';
  io.stdout.write(
    `${file}: ${verdict} for ${options.schema} (envelope ${envelope}): ${analysis.errors.length} error(s), ${analysis.warnings.length} warning(s)` +
      (analysis.plan === undefined ? '\n' : `, ${analysis.plan.decisions.length} field decision(s)\n`),
  );
  return { errors: analysis.errors.length, warnings: analysis.warnings.length };
}

/** The decisions as an aligned table (the rule column names a rule, or `(unmatchedSensitive)` and the like). */
function writeDecisions(decisions: readonly FieldDecision[], io: CliIo): void {
  io.stdout.write(`field decisions (${decisions.length}):\n`);
  if (decisions.length === 0) return;
  const rows = [['PATH', 'ACTION', 'RULE'], ...decisions.map((d) => [d.path, d.action, d.rule])];
  const widths = [0, 1].map((col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  for (const [path = '', action = '', rule = ''] of rows) {
    io.stdout.write(`  ${path.padEnd(widths[0] ?? 0)}  ${action.padEnd(widths[1] ?? 0)}  ${rule}\n`);
  }
}

/** Runs the validation; 0 when valid (warnings allowed), 2 when invalid or the input cannot be read. */
export function runPolicyValidateCommand(file: string, options: PolicyValidateOptions, io: CliIo): number {
  try {
    return validatePolicyCommand(file, options, io).errors === 0 ? 0 : 2;
  } catch (err) {
    const { code, message } = describeError(err);
    io.stderr.write(`masker: ${code}: ${message}\n`);
    return 2;
  }
}

/** Adds `validate` under the `policy` command (created here when no other layer registered it yet). */
export function registerPolicyValidateCommand(program: Command, io: CliIo = processIo()): void {
  const policy = program.commands.find((c) => c.name() === 'policy')
    ?? program.command('policy').description('policy operations: validate, push, list, show, diff, rollback, toggle');
  policy
    .command('validate')
    .description('validate a policy file strictly; with --schema also check it against an Avro schema')
    .argument('<file>', 'policy file (YAML or JSON)')
    .option('--schema <file>', 'Avro schema (.avsc) to compile the policy against')
    .addOption(new Option('--envelope <kind>', 'record envelope').choices(['auto', 'debezium', 'none']).default('auto'))
    .option('--explain', 'with --schema: list every field decision (path, action, rule)')
    .action((file: string, opts: PolicyValidateOptions) => {
      const report = validatePolicyCommand(file, opts, io);
      if (report.errors > 0) {
        throw new MaskerError('MASKER_POLICY_INVALID', `${file}: ${report.errors} error(s) (see above)`);
      }
    });
}
