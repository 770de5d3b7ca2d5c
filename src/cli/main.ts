import { Command, CommanderError } from 'commander';
import { isMaskerError } from '../errors.js';
import { registerAuditCommand } from './audit-command.js';
import { registerDemoCommand } from './demo/demo-command.js';
import { registerMaskCommand } from './mask-command.js';
import { packageVersion } from './package-version.js';
import { registerPolicyCommand } from './policy-command.js';
import { registerPolicyValidateCommand } from './policy-validate-command.js';
import { registerProduceCommand } from './produce-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerSchemaCommand } from './schema-command.js';
import { registerRunCommand } from './run-command.js';
import { registerScanCommand } from './scan-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerTailCommand } from './tail-command.js';

/** The `masker` command line. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('masker')
    .description('streaming PII masker for test environments')
    .exitOverride()
    .showHelpAfterError()
    .version(packageVersion(), '-V, --version', 'print the masker version');
  registerRunCommand(program);
  registerServeCommand(program);
  registerReplayCommand(program);
  registerDemoCommand(program);
  registerPolicyCommand(program);
  registerPolicyValidateCommand(program);
  registerMaskCommand(program);
  registerProduceCommand(program);
  registerSchemaCommand(program);
  registerScanCommand(program);
  registerTailCommand(program);
  registerAuditCommand(program);
  try {
    process.exitCode = undefined;
    await program.parseAsync([...argv], { from: 'user' });
    // A command may set process.exitCode for an outcome that is not an error (replay interrupted: 130).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isMaskerError(err)) {
      process.stderr.write(`masker: ${err.code}: ${err.message}\n`);
      return err.disposition === 'fatal' ? 2 : 1;
    }
    // kafkajs messages name brokers and topics; other libraries' messages (avsc) can quote record values,
    // so for those only the error's name is printed.
    const detail = err instanceof Error ? (err.name.startsWith('KafkaJS') ? `${err.name}: ${err.message}` : err.name) : typeof err;
    process.stderr.write(`masker: unexpected error: ${detail}\n`);
    return 1;
  }
}
