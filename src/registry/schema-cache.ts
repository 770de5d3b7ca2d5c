import avro from 'avsc';
import { MaskerError } from '../errors.js';
import type { RegistryClient } from './registry-client.js';

/** A writer schema as fetched from the registry: the raw text (tags intact) and its avsc Type. */
export interface ResolvedSchema {
  readonly id: number;
  /** Raw schema text as registered. Field attributes such as `confluent:tags` are only here. */
  readonly text: string;
  readonly json: unknown;
  readonly type: avro.Type;
}

/** Schema lookup by id, cached; concurrent misses for one id share a single registry request. */
export interface SchemaLookup {
  byId(id: number): Promise<ResolvedSchema>;
  /** Registers `text` under `subject` (idempotent in the registry), cached per (subject, text). */
  register(subject: string, text: string): Promise<number>;
}

export class CachedSchemaLookup implements SchemaLookup {
  private readonly byIdCache = new Map<number, Promise<ResolvedSchema>>();
  private readonly registered = new Map<string, Promise<number>>();

  /**
   * @param client the source registry: schemas by id.
   * @param registerClient where masked schemas are registered (TARGET_SCHEMA_REGISTRY_URL). Default: `client`.
   */
  constructor(private readonly client: RegistryClient, private readonly registerClient: RegistryClient = client) {}

  byId(id: number): Promise<ResolvedSchema> {
    let pending = this.byIdCache.get(id);
    if (pending === undefined) {
      pending = this.fetch(id);
      this.byIdCache.set(id, pending);
      // Forget failures so a later record retries (registry back) — only successes stay cached.
      pending.catch(() => this.byIdCache.delete(id));
    }
    return pending;
  }

  register(subject: string, text: string): Promise<number> {
    const key = `${subject}\u0000${text}`;
    let pending = this.registered.get(key);
    if (pending === undefined) {
      pending = this.registerClient.register(subject, text);
      this.registered.set(key, pending);
      pending.catch(() => this.registered.delete(key));
    }
    return pending;
  }

  private async fetch(id: number): Promise<ResolvedSchema> {
    const { schema, schemaType } = await this.client.schemaById(id);
    if (schemaType !== 'AVRO') {
      throw new MaskerError('MASKER_DECODE', `schema id ${id}: expected an AVRO schema, registry says ${schemaType}`);
    }
    return parseSchema(id, schema);
  }
}

export function parseSchema(id: number, text: string): ResolvedSchema {
  let json: unknown;
  let type: avro.Type;
  try {
    json = JSON.parse(text);
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (cause) {
    throw new MaskerError('MASKER_DECODE', `schema id ${id}: not a valid Avro schema`, { cause });
  }
  return { id, text, json, type };
}
