import { MaskerError } from '../errors.js';

/**
 * A small client for the Confluent Schema Registry REST API (v1), over Node's fetch.
 *
 * Why not @kafkajs/confluent-schema-registry for lookups: it hands back schemas already parsed by avsc,
 * which drops field attributes such as `confluent:tags` — the very thing masker reads to find PII. We
 * need the raw schema text, and we need to tell "schema does not exist" (quarantine the record) apart from
 * "registry unreachable" (retry). The library is still what our tests produce with, proving wire compatibility.
 */
export interface RegistryClientOptions {
  readonly url: string;
  /** Per-request deadline. Default 10 s. */
  readonly timeoutMs?: number;
}

/** One registered version of a subject. */
export interface SubjectVersion {
  readonly subject: string;
  readonly version: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class RegistryClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(options: RegistryClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * The raw schema text of an id. Throws MASKER_SCHEMA_NOT_FOUND (404) or MASKER_REGISTRY_UNAVAILABLE.
   * `metadata` is the answer's data-contract metadata, unvalidated: Confluent (7.4+) includes it here, other
   * registries (AxonOps) only on subject-version lookups — see {@link versionsOfId}.
   */
  async schemaById(id: number): Promise<{ schema: string; schemaType: string; metadata: unknown }> {
    const body = await this.request('GET', `/schemas/ids/${id}`, undefined, `schema id ${id}`);
    const schema = field(body, 'schema');
    const schemaType = typeof body['schemaType'] === 'string' ? body['schemaType'] : 'AVRO';
    if (typeof schema !== 'string') throw unavailable(`schema id ${id}: registry answer has no "schema" string`);
    return { schema, schemaType, metadata: field(body, 'metadata') };
  }

  /**
   * The subject-version pairs that registered an id (`GET /schemas/ids/{id}/versions?deleted=true`: soft-deleted
   * versions too — records written under them are still out there). Undefined on 404: registries without the
   * endpoint (older ones) have no metadata to offer.
   */
  async versionsOfId(id: number): Promise<SubjectVersion[] | undefined> {
    const what = `schema id ${id} versions`;
    let body: unknown;
    try {
      body = await this.requestBody('GET', `/schemas/ids/${id}/versions?deleted=true`, undefined, what);
    } catch (err) {
      if (err instanceof MaskerError && err.code === 'MASKER_SCHEMA_NOT_FOUND') return undefined;
      throw err;
    }
    if (!Array.isArray(body)) throw unavailable(`${what}: registry answer is not an array of subject-version pairs`);
    return body.map((entry: unknown) => {
      const subject = isRecord(entry) ? entry['subject'] : undefined;
      const version = isRecord(entry) ? entry['version'] : undefined;
      if (typeof subject !== 'string' || typeof version !== 'number') throw unavailable(`${what}: registry answer has an entry without a "subject" string and a "version" number`);
      return { subject, version };
    });
  }

  /**
   * One registered version of a subject with its data-contract metadata (unvalidated), soft-deleted ones too;
   * undefined on 404 (the version was deleted for good meanwhile).
   */
  async subjectVersion(subject: string, version: number): Promise<{ id: number; version: number; schema: string; metadata: unknown } | undefined> {
    const what = `subject ${subject} version ${version}`;
    let body: Record<string, unknown>;
    try {
      body = await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}?deleted=true`, undefined, what);
    } catch (err) {
      if (err instanceof MaskerError && err.code === 'MASKER_SCHEMA_NOT_FOUND') return undefined;
      throw err;
    }
    const id = field(body, 'id');
    const schema = field(body, 'schema');
    if (typeof id !== 'number' || typeof schema !== 'string') throw unavailable(`${what}: unexpected registry answer`);
    return { id, version, schema, metadata: field(body, 'metadata') };
  }

  /**
   * Registers (or finds) a schema under a subject; returns its id. Compatibility refusals → MASKER_TARGET_SCHEMA_REJECTED.
   * `metadataTags` (path glob → tags), when given and not empty, is sent as the version's `metadata.tags`.
   */
  async register(subject: string, schema: string, metadataTags?: Readonly<Record<string, readonly string[]>>): Promise<number> {
    const payload = metadataTags === undefined || Object.keys(metadataTags).length === 0
      ? { schema, schemaType: 'AVRO' }
      : { schema, schemaType: 'AVRO', metadata: { tags: metadataTags } };
    const body = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, payload, `subject ${subject}`);
    const id = field(body, 'id');
    if (typeof id !== 'number') throw unavailable(`subject ${subject}: registry answer has no numeric "id"`);
    return id;
  }

  /** Latest registered version of a subject, or undefined when the subject does not exist. */
  async latest(subject: string): Promise<{ id: number; version: number; schema: string } | undefined> {
    try {
      const body = await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`, undefined, `subject ${subject}`);
      const id = field(body, 'id');
      const version = field(body, 'version');
      const schema = field(body, 'schema');
      if (typeof id !== 'number' || typeof version !== 'number' || typeof schema !== 'string') {
        throw unavailable(`subject ${subject}: unexpected registry answer`);
      }
      return { id, version, schema };
    } catch (err) {
      if (err instanceof MaskerError && err.code === 'MASKER_SCHEMA_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** A JSON object answer (anything else reads as `{}`). */
  private async request(method: string, path: string, payload: unknown, what: string): Promise<Record<string, unknown>> {
    const body = await this.requestBody(method, path, payload, what);
    return isRecord(body) ? body : {};
  }

  /** The parsed JSON answer of a successful request; errors mapped to MaskerErrors by status. */
  private async requestBody(method: string, path: string, payload: unknown, what: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { accept: CONTENT_TYPE, ...(payload === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new MaskerError('MASKER_REGISTRY_UNAVAILABLE', `${what}: schema registry ${this.base} unreachable`, { cause });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      body = {};
    }
    if (res.ok) return body;
    const record = isRecord(body) ? body : {};
    const errorCode = typeof record['error_code'] === 'number' ? record['error_code'] : res.status;
    const detail = `${what}: registry answered HTTP ${res.status} (error_code ${errorCode})`;
    if (res.status === 404) throw new MaskerError('MASKER_SCHEMA_NOT_FOUND', detail);
    if (res.status === 409 || res.status === 422) throw new MaskerError('MASKER_TARGET_SCHEMA_REJECTED', detail);
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw unavailable(detail);
    // Any other 4xx means our request is wrong for this registry: refuse to guess, fail closed for the record.
    throw new MaskerError('MASKER_TARGET_SCHEMA_REJECTED', detail);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(body: Record<string, unknown>, name: string): unknown {
  return body[name];
}

function unavailable(message: string): MaskerError {
  return new MaskerError('MASKER_REGISTRY_UNAVAILABLE', message);
}
