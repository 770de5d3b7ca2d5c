import avro from 'avsc';
import { isMaskerError, MaskerError } from '../../errors.js';
import { compilePlan, countEncodedRecords, parsePolicy, type CompiledPlan } from '../../masking/index.js';
import type { RegistryClient } from '../../registry/registry-client.js';
import { HEADER_BYTES, MAGIC_BYTE } from '../../registry/wire-format.js';
import { bytesText, printableUtf8, readableType, toReadable } from './readable-avro.js';

/** What a key or value turned out to be, and its readable form. */
export type DecodedBytes =
  | { readonly format: 'avro'; readonly schemaId: number; readonly value: unknown }
  | { readonly format: 'json'; readonly value: unknown }
  | { readonly format: 'text'; readonly value: string }
  | { readonly format: 'hex'; readonly value: string; readonly note?: string }
  | { readonly format: 'null'; readonly value: null };

interface TailSchema {
  readonly type: avro.Type;
  /** Checks the bytes frame as one record before avsc decodes them (a corrupt block count cannot make it allocate without bound). */
  readonly framing: CompiledPlan;
}

/** A plan that masks nothing: only its framing check is used. */
const FRAMING_POLICY = parsePolicy({
  apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'tail-framing',
  sensitiveTags: [], untagged: { detect: [] }, newFields: 'pass', envelope: { freeText: 'keep' }, rules: [],
}, 'masker tail (framing)');

/**
 * Decodes record keys and values for `masker tail`: the Confluent wire format (magic byte 0, schema id) with
 * the writer schema from the registry (schemas cached by id); UTF-8 JSON (the audit topic) as parsed JSON;
 * other printable UTF-8 as text; anything else as hex, with a note when it looked like Avro but could not
 * be decoded (unknown schema id, bytes that do not frame as the schema). Registry outages propagate.
 */
export class RecordDecoder {
  private readonly schemas = new Map<number, Promise<TailSchema>>();

  /** `registry` undefined (SCHEMA_REGISTRY_URL not set): wire-format bytes are shown as hex, with a note. */
  constructor(private readonly registry: Pick<RegistryClient, 'schemaById'> | undefined) {}

  async decode(bytes: Buffer | null): Promise<DecodedBytes> {
    if (bytes === null) return { format: 'null', value: null };
    if (bytes.length >= HEADER_BYTES && bytes[0] === MAGIC_BYTE) {
      const schemaId = bytes.readUInt32BE(1);
      let schema: TailSchema;
      try {
        schema = await this.schema(schemaId);
      } catch (err) {
        if (isMaskerError(err) && err.disposition === 'retry') throw err;
        const why = this.registry === undefined ? 'SCHEMA_REGISTRY_URL is not set'
          : isMaskerError(err) && err.code === 'MASKER_SCHEMA_NOT_FOUND' ? `schema id ${schemaId} is not in the registry`
          : `schema id ${schemaId} cannot be used (${isMaskerError(err) ? err.code : 'invalid'})`;
        return { format: 'hex', value: `0x${bytes.toString('hex')}`, note: `wire format, but ${why}` };
      }
      const body = bytes.subarray(HEADER_BYTES);
      try {
        if (countEncodedRecords(schema.framing, body) !== 1) throw new MaskerError('MASKER_DECODE', 'not one record');
        return { format: 'avro', schemaId, value: toReadable(schema.type.fromBuffer(body)) };
      } catch {
        return { format: 'hex', value: `0x${bytes.toString('hex')}`, note: `wire format, but the bytes do not decode with schema id ${schemaId}` };
      }
    }
    const text = printableUtf8(bytes);
    if (text === undefined) return { format: 'hex', value: bytesText(bytes) };
    const trimmed = text.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return { format: 'json', value: JSON.parse(text) as unknown };
      } catch {
        // not JSON after all: text
      }
    }
    return { format: 'text', value: text };
  }

  private schema(id: number): Promise<TailSchema> {
    let pending = this.schemas.get(id);
    if (pending === undefined) {
      pending = this.load(id);
      this.schemas.set(id, pending);
      // A registry outage is not remembered: the next record asks again.
      pending.catch((err: unknown) => {
        if (isMaskerError(err) && err.disposition === 'retry') this.schemas.delete(id);
      });
    }
    return pending;
  }

  private async load(id: number): Promise<TailSchema> {
    if (this.registry === undefined) throw new MaskerError('MASKER_SCHEMA_NOT_FOUND', 'SCHEMA_REGISTRY_URL is not set');
    const { schema, schemaType } = await this.registry.schemaById(id);
    if (schemaType !== 'AVRO') throw new MaskerError('MASKER_DECODE', `schema id ${id} is ${schemaType}, not Avro`);
    let json: unknown;
    try {
      json = JSON.parse(schema);
      return { type: readableType(json), framing: compilePlan(avro.Type.forSchema(json as avro.Schema), FRAMING_POLICY, { envelope: 'none', schemaJson: json }) };
    } catch (cause) {
      if (isMaskerError(cause)) throw cause;
      throw new MaskerError('MASKER_DECODE', `schema id ${id}: not a valid Avro schema`, { cause });
    }
  }
}
