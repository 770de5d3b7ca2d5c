import avro from 'avsc';
import { MaskerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { mergeMetadataTags, metadataTagsJson, NO_METADATA_TAGS, parseMetadataTags, unionMetadataTags, type MetadataTags } from './metadata-tags.js';
import type { RegistryClient } from './registry-client.js';

/** A writer schema as fetched from the registry: the raw text, the JSON the engine reads tags from, its avsc Type. */
export interface ResolvedSchema {
  readonly id: number;
  /** Raw schema text as registered (what the target subject gets). Field attributes such as `confluent:tags` are only here and in `json`. */
  readonly text: string;
  /**
   * The parsed schema, with the registry's data-contract `metadata.tags` of this id merged into the fields'
   * `confluent:tags` (union, inline tags kept): the plan compiler reads tags from here only.
   */
  readonly json: unknown;
  readonly type: avro.Type;
  /** The id's registry `metadata.tags` (path glob → tags; union over its subject-versions). Empty: none. */
  readonly metadataTags: MetadataTags;
}

/** Schema lookup by id, cached; concurrent misses for one id share a single registry request. */
export interface SchemaLookup {
  byId(id: number): Promise<ResolvedSchema>;
  /**
   * Registers `text` under `subject` (idempotent in the registry), cached per (subject, text, tags).
   * `metadataTags`, when not empty, goes along as the version's `metadata.tags` (the writer schema's own
   * tags: the masked schema has the same fields, so downstream tooling still knows which were PII).
   */
  register(subject: string, text: string, metadataTags?: MetadataTags): Promise<number>;
}

export interface SchemaLookupOptions {
  /** Where "metadata tag path matches no field" is logged (debug, once per schema id). Default: not logged. */
  readonly logger?: Pick<Logger, 'debug'>;
  /**
   * How long a schema whose registry content is invalid (not Avro, malformed metadata: MASKER_DECODE) stays
   * cached as failing, so its records are quarantined without a registry round trip each. Default 60 s;
   * a fix in the registry is seen after that. Other failures (registry down, id not found) are not cached.
   */
  readonly invalidSchemaTtlMs?: number;
}

/** Subject-version lookups run at once for one id (an id registered under many subjects). */
const METADATA_LOOKUP_CONCURRENCY = 4;

export class CachedSchemaLookup implements SchemaLookup {
  private readonly byIdCache = new Map<number, Promise<ResolvedSchema>>();
  private readonly registered = new Map<string, Promise<number>>();
  private readonly logger: Pick<Logger, 'debug'> | undefined;
  private readonly invalidSchemaTtlMs: number;

  /**
   * @param client the source registry: schemas (and their metadata tags) by id.
   * @param registerClient where masked schemas are registered (TARGET_SCHEMA_REGISTRY_URL). Default: `client`.
   */
  constructor(private readonly client: RegistryClient, private readonly registerClient: RegistryClient = client, options: SchemaLookupOptions = {}) {
    this.logger = options.logger;
    this.invalidSchemaTtlMs = options.invalidSchemaTtlMs ?? 60_000;
  }

  byId(id: number): Promise<ResolvedSchema> {
    let pending = this.byIdCache.get(id);
    if (pending === undefined) {
      const fetched = this.fetch(id);
      pending = fetched;
      this.byIdCache.set(id, fetched);
      // Forget failures so a later record retries (registry back) — only successes stay cached, and for a
      // while the content-invalid ones (the registry would give the same answer to every record).
      fetched.catch((err: unknown) => {
        const forget = (): void => {
          if (this.byIdCache.get(id) === fetched) this.byIdCache.delete(id);
        };
        if (err instanceof MaskerError && err.code === 'MASKER_DECODE' && this.invalidSchemaTtlMs > 0) {
          setTimeout(forget, this.invalidSchemaTtlMs).unref();
        } else {
          forget();
        }
      });
    }
    return pending;
  }

  register(subject: string, text: string, metadataTags: MetadataTags = NO_METADATA_TAGS): Promise<number> {
    const tags = metadataTagsJson(metadataTags);
    const key = `${subject}\u0000${text}\u0000${JSON.stringify(tags)}`;
    let pending = this.registered.get(key);
    if (pending === undefined) {
      pending = this.registerClient.register(subject, text, tags);
      this.registered.set(key, pending);
      pending.catch(() => this.registered.delete(key));
    }
    return pending;
  }

  private async fetch(id: number): Promise<ResolvedSchema> {
    const { schema, schemaType, metadata } = await this.client.schemaById(id);
    if (schemaType !== 'AVRO') {
      throw new MaskerError('MASKER_DECODE', `schema id ${id}: expected an AVRO schema, registry says ${schemaType}`);
    }
    const parsed = parseSchema(id, schema);
    const tags = await this.metadataTags(id, metadata);
    if (tags.size === 0) return parsed;
    const { json, unmatched } = mergeMetadataTags(parsed.json, tags);
    if (unmatched.length > 0) {
      this.logger?.debug({ schemaId: id, paths: unmatched }, 'registry metadata.tags paths match no field of the schema: ignored');
    }
    return { ...parsed, json, metadataTags: tags };
  }

  /**
   * The id's data-contract tags: from the by-id answer when the registry puts them there (Confluent), and
   * from every subject-version that registered the id (AxonOps stores metadata per subject-version only, and
   * one id can carry different metadata under different subjects: the union is taken, the safe side).
   */
  private async metadataTags(id: number, byIdMetadata: unknown): Promise<MetadataTags> {
    const parts = [parseMetadataTags(byIdMetadata, `schema id ${id}`)];
    const versions = await this.client.versionsOfId(id);
    if (versions === undefined) return unionMetadataTags(parts);
    for (let i = 0; i < versions.length; i += METADATA_LOOKUP_CONCURRENCY) {
      const answers = await Promise.all(versions.slice(i, i + METADATA_LOOKUP_CONCURRENCY).map(async ({ subject, version }) => {
        const answer = await this.client.subjectVersion(subject, version);
        if (answer === undefined || answer.id !== id) return undefined; // deleted meanwhile
        return parseMetadataTags(answer.metadata, `schema id ${id} (subject ${subject} version ${version})`);
      }));
      for (const answer of answers) if (answer !== undefined) parts.push(answer);
    }
    return unionMetadataTags(parts);
  }
}

/** Parses registry schema text (no metadata tags: see {@link CachedSchemaLookup}). */
export function parseSchema(id: number, text: string): ResolvedSchema {
  let json: unknown;
  let type: avro.Type;
  try {
    json = JSON.parse(text);
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (cause) {
    throw new MaskerError('MASKER_DECODE', `schema id ${id}: not a valid Avro schema`, { cause });
  }
  return { id, text, json, type, metadataTags: NO_METADATA_TAGS };
}
