import { MaskerError } from '../errors.js';
import { sha256Of } from './file-policy-store.js';
import { readPolicyFolder } from './policy-folder.js';
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

  private readAll(): Promise<Map<string, StoredPolicy>> {
    return new Promise((resolve) => {
      resolve(readPolicyFolder(this.dir, (doc, path): StoredPolicy => {
        const name = nameOf(doc);
        if (name === undefined) throw new MaskerError('MASKER_POLICY_INVALID', `${path}: name: expected a string`);
        return { name, version: 1, doc, sha256: sha256Of(doc) };
      }));
    });
  }
}

function nameOf(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const name: unknown = (doc as Record<string, unknown>)['name'];
  return typeof name === 'string' ? name : undefined;
}
