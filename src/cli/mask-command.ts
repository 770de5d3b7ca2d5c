import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import avro from 'avsc';
import type { Type } from 'avsc';
import type { Command } from 'commander';
import { Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { loadKeyRing } from '../config/secrets.js';
import { yamlProblem } from '../config/yaml-problem.js';
import { describeError, MaskerError } from '../errors.js';
import type { CompiledPlan, Envelope, KeyRing, Policy } from '../masking/index.js';
import { compilePlan, detectEnvelope, maskEncoded, maskRecord, parsePolicy } from '../masking/index.js';
import { blockPlace, ByteSource, CONTAINER_MAGIC, ContainerWriter, readContainerHeader, readContainerBlocks, RecordFraming } from './avro-container/index.js';

/** Streams and environment of a command, injectable so commands are testable without spawning. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

export type EnvelopeOption = Envelope | 'auto';

export interface MaskCommandOptions {
  readonly schema: string;
  readonly policy: string;
  readonly in?: string;
  readonly out?: string;
  /** `auto` (default): debezium when the schema has before/after/op fields. */
  readonly envelope?: EnvelopeOption;
}

/** Reads and parses an .avsc file; returns the JSON (tags intact) and the avsc Type. */
export function loadSchemaFile(file: string): { json: unknown; type: Type } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${file}: cannot read the schema as JSON`, { cause });
  }
  try {
    return { json, type: avro.Type.forSchema(json as avro.Schema) };
  } catch (err) {
    throw new MaskerError('MASKER_INPUT', `${file}: not a valid Avro schema (${err instanceof Error ? err.message : 'parse error'})`);
  }
}

/** Reads a policy file (YAML or JSON) and validates it strictly. */
export function loadPolicyFile(file: string): Policy {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${file}: ${yamlProblem(cause)}`, { cause });
  }
  return parsePolicy(doc, file);
}

/**
 * `masker mask`: masks Avro JSON-encoding lines (as avro-tools tojson prints them) or an Avro object
 * container file (detected by its `Obj\x01` magic), writing the same format. Stops at the first record it
 * cannot mask, naming the line / record index and the error code — never a value; every record before it
 * is written completely, nothing of the failing one. A corrupt container stops with MASKER_DECODE naming
 * the block and its byte offset, after the blocks before it are written.
 */
export async function maskCommand(options: MaskCommandOptions, io: CliIo): Promise<{ records: number }> {
  const schema = loadSchemaFile(options.schema);
  const policy = loadPolicyFile(options.policy);
  const envelope = options.envelope === undefined || options.envelope === 'auto' ? detectEnvelope(schema.json) : options.envelope;
  const plan = compilePlan(schema.type, policy, { envelope, schemaJson: schema.json });
  const keys = loadKeyRing(io.env);

  const input = options.in === undefined ? io.stdin : createReadStream(options.in);
  const { head, rest } = await peek(input, CONTAINER_MAGIC.length, options.in ?? 'stdin');
  const output = options.out === undefined ? io.stdout : createWriteStream(options.out);
  try {
    if (head.subarray(0, CONTAINER_MAGIC.length).equals(CONTAINER_MAGIC)) {
      return await maskContainer(new ByteSource(rest, options.in ?? 'stdin', regularFileSize(options.in)), output, schema, plan, keys);
    }
    return await maskJsonLines(Readable.from(rest), output, schema.type, plan, keys);
  } finally {
    if (options.out !== undefined) {
      output.end();
      await finished(output);
    }
  }
}

/** Runs `maskCommand`, prints `masker: CODE: message` on failure; 0 ok, 1 record/runtime failure, 2 usage/config. */
export async function runMaskCommand(options: MaskCommandOptions, io: CliIo): Promise<number> {
  try {
    const { records } = await maskCommand(options, io);
    io.stderr.write(`masker: masked ${records} record(s)\n`);
    return 0;
  } catch (err) {
    const { code, message } = describeError(err);
    io.stderr.write(`masker: ${code}: ${message}\n`);
    return err instanceof MaskerError && err.disposition === 'fatal' ? 2 : 1;
  }
}

function maskOne(plan: CompiledPlan, record: unknown, keys: KeyRing, where: string): unknown {
  try {
    return maskRecord(plan, record, keys).value;
  } catch (err) {
    if (err instanceof MaskerError) throw new MaskerError(err.code, `${where}: ${err.message}`);
    throw new MaskerError('MASKER_ACTION', `${where}: masking failed`);
  }
}

async function maskJsonLines(input: Readable, output: NodeJS.WritableStream, type: Type, plan: CompiledPlan, keys: KeyRing): Promise<{ records: number }> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let records = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = type.fromString(line);
    } catch {
      throw new MaskerError('MASKER_INPUT', `line ${lineNo}: not a record of the schema in Avro JSON encoding`);
    }
    const masked = maskOne(plan, record, keys, `line ${lineNo}`);
    let text: string;
    try {
      text = type.toString(masked);
    } catch {
      throw new MaskerError('MASKER_OUTPUT_INVALID', `line ${lineNo}: masked record cannot be encoded`);
    }
    if (!output.write(`${text}\n`)) await once(output, 'drain');
    records++;
  }
  return { records };
}

/**
 * An object container file, block by block with our own reader and writer (avro-container/): each block's
 * framing is checked whole (count, size, sync marker, every record) before any of its records is masked;
 * each record body is masked on the byte path and the masked bodies of a block are written as one block,
 * same codec, fresh sync marker. The file's writer schema must have --schema's canonical form (--schema
 * brings the tags; the output header carries it). On a corrupt block the blocks before it are already
 * written and MASKER_DECODE names the block and its byte offset; on a record that cannot be masked, the
 * records before it (this block's too) are written.
 */
async function maskContainer(
  src: ByteSource,
  output: NodeJS.WritableStream,
  schema: { json: unknown; type: Type },
  plan: CompiledPlan,
  keys: KeyRing,
): Promise<{ records: number }> {
  const header = await readContainerHeader(src);
  checkWriterSchema(header.schemaText, schema.type);
  const writer = new ContainerWriter(output, header.codec);
  await writer.writeHeader(JSON.stringify(schema.json));
  const framing = new RecordFraming(schema.type, schema.json);
  let records = 0;
  for await (const block of readContainerBlocks(src, header)) {
    let bodies: Buffer[];
    try {
      bodies = framing.split(block.data, block.count);
    } catch (err) {
      if (err instanceof MaskerError) throw new MaskerError(err.code, `${blockPlace(block)}: ${err.message}`);
      throw err;
    }
    const masked: Buffer[] = [];
    try {
      for (const body of bodies) {
        masked.push(maskBody(plan, body, keys, `record ${records + masked.length + 1} (${blockPlace(block)})`));
      }
    } finally {
      await writer.writeBlock(masked);
      records += masked.length;
    }
  }
  return { records };
}

/**
 * The container's writer schema against --schema: same Parsing Canonical Form, or MASKER_INPUT. (Masking
 * with the file's own schema would lose --schema's tags; masking with --schema when they differ would
 * misread every record.)
 */
function checkWriterSchema(text: string, expected: Type): void {
  let writer: Type;
  try {
    writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
  } catch {
    throw new MaskerError('MASKER_DECODE', 'container header: its avro.schema is not a valid Avro schema');
  }
  if (!writer.equals(expected)) {
    throw new MaskerError('MASKER_INPUT', 'the container file was written with a different schema than --schema (their canonical forms differ): pass the schema the file was written with, tags added');
  }
}

function maskBody(plan: CompiledPlan, body: Buffer, keys: KeyRing, where: string): Buffer {
  try {
    return maskEncoded(plan, body, keys).bytes;
  } catch (err) {
    if (err instanceof MaskerError) throw new MaskerError(err.code, `${where}: ${err.message}`);
    throw new MaskerError('MASKER_ACTION', `${where}: masking failed`);
  }
}

/** The size of a regular file (to bound lengths by the bytes left), else undefined (stdin, a pipe). */
function regularFileSize(path: string | undefined): number | undefined {
  if (path === undefined) return undefined;
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined; // the read stream reports it
  }
}

/** Reads at least `n` bytes (or everything) from a stream; returns them and an iterator of all bytes. */
async function peek(input: NodeJS.ReadableStream, n: number, name: string): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    while (size < n) {
      const next = await iterator.next();
      if (next.done === true) break;
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (cause) {
    throw new MaskerError('MASKER_INPUT', `${name}: cannot read the input`, { cause });
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncIterable<Buffer> {
    if (head.length > 0) yield head;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { head, rest: rest() };
}

export function registerMaskCommand(program: Command, io: CliIo = processIo()): void {
  program
    .command('mask')
    .description('mask Avro records offline: JSON-encoding lines or an Avro container file (key from MASKER_SECRET / MASKER_SECRET_FILE)')
    .requiredOption('--schema <file>', 'Avro schema (.avsc) of the records, with confluent:tags')
    .requiredOption('--policy <file>', 'masking policy (YAML or JSON)')
    .option('--in <file>', 'input file (default: stdin)')
    .option('--out <file>', 'output file (default: stdout)')
    .addOption(new Option('--envelope <kind>', 'record envelope').choices(['auto', 'debezium', 'none']).default('auto'))
    .action(async (opts: MaskCommandOptions) => {
      const { records } = await maskCommand(opts, io);
      io.stderr.write(`masker: masked ${records} record(s)\n`);
    });
}
