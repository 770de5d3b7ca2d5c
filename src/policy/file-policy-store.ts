import { createHash } from 'node:crypto';
import { parsePolicy } from '../masking/index.js';
import type { ActivePolicy, PolicyProvider } from './active-policy.js';
import { readPolicyFolder } from './policy-folder.js';

/**
 * Policies from a folder of `*.yaml` / `*.json` files (used when no Redis is configured). Each file is
 * validated strictly at load; any invalid file is fatal, naming the file and the JSON path at fault.
 * Every policy has version 1; the sha256 is over its canonical JSON form.
 */
export class FilePolicyStore implements PolicyProvider {
  private readonly byName: ReadonlyMap<string, ActivePolicy>;

  constructor(dir: string) {
    this.byName = loadPolicyFolder(dir);
  }

  policyFor(route: { readonly policy: string }): ActivePolicy | undefined {
    return this.byName.get(route.policy);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Every policy of the folder, validated strictly (version 1; sha256 over the canonical JSON). */
export function loadPolicyFolder(dir: string): Map<string, ActivePolicy> {
  return readPolicyFolder(dir, (doc, path): ActivePolicy => {
    const policy = parsePolicy(doc, path);
    return { name: policy.name, version: 1, sha256: sha256Of(doc), policy, disabledRules: new Set() };
  });
}

/** SHA-256 hex of a document's canonical JSON (keys sorted), so YAML and JSON forms hash alike. */
export function sha256Of(doc: unknown): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
