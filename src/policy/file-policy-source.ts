import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { yamlProblem } from '../config/yaml-problem.js';
import { MaskerError } from '../errors.js';
import { sha256Of } from './file-policy-store.js';
import type { PolicySource, RouteRef, StoredPolicy, ToggleState } from './policy-source.js';

/**
 * {@link PolicySource} over a policies folder (`*.yaml`, `*.yml`, `*.json`), keyed by each document's
 * `name`. The folder is re-read on every call, so a poller sees edits. Files carry no signature, no
 * toggles and no route overrides: every policy has version 1 and a route uses the policy its file names.
 * A file that does not parse, or has no string `name`, or repeats a name, fails the read
 * (MASKER_POLICY_INVALID naming the file): a folder is consistent or it is not used.
 */
export class FilePolicySource implements PolicySource {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `policies folder ${dir}`;
  }

  async get(name: string): Promise<StoredPolicy | undefined> {
    return (await this.readAll()).get(name);
  }

  async names(): Promise<string[]> {
    return [...(await this.readAll()).keys()].sort();
  }

  policyNameFor(route: RouteRef): Promise<string> {
    return Promise.resolve(route.policy);
  }

  toggles(): Promise<ReadonlyMap<string, ToggleState>> {
    return Promise.resolve(new Map());
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async readAll(): Promise<Map<string, StoredPolicy>> {
    let files: string[];
    try {
      files = (await readdir(this.dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    } catch (cause) {
      throw new MaskerError('MASKER_CONFIG', `policies folder ${this.dir} cannot be read (--policies)`, { cause });
    }
    const out = new Map<string, StoredPolicy>();
    for (const file of files) {
      const path = join(this.dir, file);
      let doc: unknown;
      try {
        doc = parseYaml(await readFile(path, 'utf8'));
      } catch (cause) {
        throw new MaskerError('MASKER_POLICY_INVALID', `${path}: ${yamlProblem(cause)}`, { cause });
      }
      const name = nameOf(doc);
      if (name === undefined) throw new MaskerError('MASKER_POLICY_INVALID', `${path}: name: expected a string`);
      if (out.has(name)) throw new MaskerError('MASKER_POLICY_INVALID', `${path}: policy name "${name}" is defined twice`);
      out.set(name, { name, version: 1, doc, sha256: sha256Of(doc) });
    }
    return out;
  }
}

function nameOf(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const name: unknown = (doc as Record<string, unknown>)['name'];
  return typeof name === 'string' ? name : undefined;
}
