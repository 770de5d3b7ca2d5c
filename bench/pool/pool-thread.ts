/** A masking thread of the pool micro-benchmark: compiles its own plan, then masks chunks it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import avro from 'avsc';
import { compilePlan, maskEncoded, parsePolicy, type KeyRing } from '../../src/masking/index.js';
import type { ChunkRequest, ChunkResponse, PlanInputs } from './pool-protocol.js';

const inputs = workerData as PlanInputs;
const schemaJson: unknown = JSON.parse(inputs.schemaText);
const plan = compilePlan(avro.Type.forSchema(schemaJson as avro.Schema), parsePolicy(inputs.policyDoc, 'policy'), { envelope: inputs.envelope, schemaJson });
const key = { id: inputs.keyId, secret: inputs.secret };
const keys: KeyRing = { active: key, keys: new Map([[key.id, key]]) };
const RESERVE = 5;

parentPort?.on('message', (req: ChunkRequest) => {
  const started = performance.now();
  const n = req.ends.length;
  const outs: Buffer[] = [];
  const status = new Uint8Array(n);
  const applied = new Uint16Array(n);
  let total = 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = req.ends[i]!;
    try {
      const masked = maskEncoded(plan, Buffer.from(req.data, start, end - start), keys, RESERVE);
      outs.push(masked.bytes);
      applied[i] = masked.fields.length;
      total += masked.bytes.length;
    } catch {
      outs.push(Buffer.alloc(0));
      status[i] = 1;
    }
    start = end;
  }
  const data = new ArrayBuffer(total);
  const view = new Uint8Array(data);
  const ends = new Uint32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    view.set(outs[i]!, at);
    at += outs[i]!.length;
    ends[i] = at;
  }
  const res: ChunkResponse = { id: req.id, data, ends, status, applied, threadUs: (performance.now() - started) * 1000 };
  parentPort?.postMessage(res, [data, ends.buffer as ArrayBuffer, status.buffer as ArrayBuffer, applied.buffer as ArrayBuffer]);
});
