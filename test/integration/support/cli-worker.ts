import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { endpoints } from './services.js';

const BIN = resolve(import.meta.dirname, '../../../bin/masker.js');

/** A route + policy folder pair on disk, as a user would lay it out. */
export function writeConfig(route: string, policy: string): { routes: string; policies: string } {
  const dir = mkdtempSync(join(tmpdir(), 'masker-cli-'));
  const routes = join(dir, 'topics');
  const policies = join(dir, 'policies');
  mkdirSync(routes);
  mkdirSync(policies);
  writeFileSync(join(routes, 'route.yaml'), route);
  writeFileSync(join(policies, 'policy.yaml'), policy);
  return { routes, policies };
}

export interface CliWorker {
  readonly child: ChildProcess;
  stderr(): string;
  /** SIGTERM (or the given signal) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `masker run` as a separate process with endpoints from the test environment. */
export function startCliWorker(config: { routes: string; policies: string }, env: Record<string, string>): CliWorker {
  const { brokers, registryUrl } = endpoints();
  const child = spawn(process.execPath, [BIN, 'run', '--routes', config.routes, '--policies', config.policies], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return {
    child,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls `probe` until it returns true or the deadline passes (no fixed sleeps in tests). */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
