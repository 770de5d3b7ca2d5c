/**
 * What the pool micro-benchmark's main thread and its masking threads exchange. A chunk travels as one
 * ArrayBuffer (the Avro bodies back to back) plus their end offsets, both transferred, never objects.
 */

/** Everything a thread needs to compile its own plan (plans hold closures and avsc types: not transferable). */
export interface PlanInputs {
  readonly schemaText: string;
  /** The policy document as parsed from YAML (plain JSON). */
  readonly policyDoc: unknown;
  readonly envelope: 'debezium' | 'none';
  readonly keyId: string;
  readonly secret: Uint8Array;
}

export interface ChunkRequest {
  readonly id: number;
  /** Bodies back to back (no wire-format header). */
  readonly data: ArrayBuffer;
  /** ends[i] = end of body i in `data`; body i starts at ends[i - 1] (0 for the first). */
  readonly ends: Uint32Array;
}

export interface ChunkResponse {
  readonly id: number;
  /** Masked bodies back to back, each after `reserve` header bytes (zeroed), as maskEncoded writes them. */
  readonly data: ArrayBuffer;
  readonly ends: Uint32Array;
  /** Per record: 0 masked, 1 failed (the main thread quarantines it). */
  readonly status: Uint8Array;
  /** Per record: decisions applied (what the audit needs, as indices would be). */
  readonly applied: Uint16Array;
  /** Wall time the thread spent on this chunk (unpack, mask, pack), microseconds. */
  readonly threadUs: number;
}
