import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MaskerError } from '../errors.js';
import { POLICY_NAME } from '../policy/policy-source.js';

/**
 * API keys of `masker serve`. The keys file (`--api-keys FILE` or `MASKER_API_KEYS_FILE`) is a YAML or
 * JSON list; only the SHA-256 of each key is stored, so the file is not a secret by itself:
 *
 * ```yaml
 * - id: ci-pipeline            # recorded in the audit as apiKeyId
 *   sha256: 9f86d081…          # hex SHA-256 of the key's UTF-8 bytes (`masker serve hash-key`)
 *   policies: [default]        # optional: policies this key may use; absent = every served policy
 * ```
 */
const keyEntrySchema = z
  .object({
    /** Names the caller in audit events and logs. */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 characters [A-Za-z0-9._-]'),
    /** Hex SHA-256 of the key (64 hex digits, any case). */
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits (the SHA-256 of the key)'),
    /** Policies the key may use. Default: every policy the server serves. */
    policies: z.array(z.string().regex(POLICY_NAME, 'expected a policy name [a-z0-9-]')).min(1).optional(),
  })
  .strict();

const keysFileSchema = z.array(keyEntrySchema).min(1, 'expected at least one key');

export interface ApiKeyEntry {
  readonly id: string;
  /** The 32-byte SHA-256 digest of the key. */
  readonly digest: Buffer;
  /** Allowed policy names; undefined = all served policies. */
  readonly policies: ReadonlySet<string> | undefined;
}

/** Keys shorter than this are refused by `hash-key`: a stored SHA-256 of a short key can be brute-forced. */
export const MIN_API_KEY_LENGTH = 20;
/** Longer bearer tokens are not even hashed (an answer of 401 like any unknown key). */
export const MAX_API_KEY_LENGTH = 512;

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Parses a keys document (already YAML/JSON-decoded); `origin` names the file in messages. */
export function parseApiKeys(doc: unknown, origin: string): ApiKeyStore {
  const parsed = keysFileSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
    throw new MaskerError('MASKER_CONFIG', `${origin}: invalid API keys file: ${problems}`);
  }
  const ids = new Set<string>();
  const digests = new Set<string>();
  const entries = parsed.data.map((e, i): ApiKeyEntry => {
    const hex = e.sha256.toLowerCase();
    if (ids.has(e.id)) throw new MaskerError('MASKER_CONFIG', `${origin}: [${i}].id: "${e.id}" is used twice`);
    if (digests.has(hex)) throw new MaskerError('MASKER_CONFIG', `${origin}: [${i}].sha256: the same key is listed twice`);
    ids.add(e.id);
    digests.add(hex);
    return { id: e.id, digest: Buffer.from(hex, 'hex'), policies: e.policies === undefined ? undefined : new Set(e.policies) };
  });
  return new ApiKeyStore(entries);
}

/** Reads and validates the keys file. Any problem is fatal (MASKER_CONFIG naming the file and the path). */
export function loadApiKeys(file: string): ApiKeyStore {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new MaskerError('MASKER_CONFIG', `API keys file ${file} cannot be read as YAML/JSON (--api-keys / MASKER_API_KEYS_FILE)`, { cause });
  }
  return parseApiKeys(doc, file);
}

export type Authentication =
  | { readonly ok: true; readonly key: ApiKeyEntry }
  | { readonly ok: false; readonly reason: 'missing-credentials' | 'malformed-credentials' | 'unknown-key' };

export class ApiKeyStore {
  constructor(private readonly entries: readonly ApiKeyEntry[]) {}

  get size(): number {
    return this.entries.length;
  }

  /** Policy names some key is limited to (the server serves each of them). */
  namedPolicies(): string[] {
    return [...new Set(this.entries.flatMap((e) => [...(e.policies ?? [])]))].sort();
  }

  /**
   * Checks an `Authorization` header. The presented key's SHA-256 is compared with EVERY stored digest
   * with crypto.timingSafeEqual (no early exit), so the time taken does not depend on which entry
   * matched or how many leading bytes agreed.
   */
  authenticate(header: string | undefined): Authentication {
    if (header === undefined || header === '') return { ok: false, reason: 'missing-credentials' };
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const token = m?.[1];
    if (token === undefined || token.length > MAX_API_KEY_LENGTH) return { ok: false, reason: 'malformed-credentials' };
    const key = this.match(createHash('sha256').update(token, 'utf8').digest());
    return key === undefined ? { ok: false, reason: 'unknown-key' } : { ok: true, key };
  }

  /** The entry whose digest equals `digest`, comparing against all entries. */
  match(digest: Buffer): ApiKeyEntry | undefined {
    let found: ApiKeyEntry | undefined;
    for (const entry of this.entries) {
      const equal = timingSafeEqual(entry.digest, digest);
      found = equal ? entry : found; // no break: every entry is compared
    }
    return found;
  }
}

export function allowsPolicy(key: ApiKeyEntry, policy: string): boolean {
  return key.policies === undefined || key.policies.has(policy);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc === '' ? String(p) : `${acc}.${String(p)}`), '') || '(root)';
}
