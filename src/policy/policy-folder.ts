import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { yamlProblem } from '../config/yaml-problem.js';
import { MaskerError } from '../errors.js';

/**
 * The one reader of a policies folder (`--policies`): every `*.yaml`, `*.yml` and `*.json` file, in name
 * order, parsed as YAML (JSON is YAML) and handed to `read` with its path, which validates it and returns
 * the entry to keep (throwing MASKER_POLICY_INVALID naming the path when the document is not acceptable).
 * An unreadable folder is MASKER_CONFIG; a file that does not parse, or a name defined twice, is
 * MASKER_POLICY_INVALID naming the file: a folder is consistent or it is not used.
 */
export function readPolicyFolder<T extends { readonly name: string }>(dir: string, read: (doc: unknown, path: string) => T): Map<string, T> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (cause) {
    throw new MaskerError('MASKER_CONFIG', `policies folder ${dir} cannot be read (--policies)`, { cause });
  }
  const out = new Map<string, T>();
  for (const file of files) {
    const path = join(dir, file);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(path, 'utf8'));
    } catch (cause) {
      throw new MaskerError('MASKER_POLICY_INVALID', `${path}: ${yamlProblem(cause)}`, { cause });
    }
    const entry = read(doc, path);
    if (out.has(entry.name)) throw new MaskerError('MASKER_POLICY_INVALID', `${path}: policy name "${entry.name}" is defined twice`);
    out.set(entry.name, entry);
  }
  return out;
}
