import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { MaskerError } from '../errors.js';
import {
  approvedEntryOf, approvedEntrySchema, assertRoute, BASELINE_APPROVER, bySubjectAndId, checkInput, entryField,
  parseStored, parseStoredJson, pendingEntryOf, pendingEntrySchema, routeNameSchema, subjectNameSchema,
  type ApprovedEntry, type ApprovedSchema, type ApproveResult, type PendingEntry, type PendingResult, type PendingSchema,
  type SchemaApprovalStore,
} from './schema-approvals.js';

/**
 * The approvals file's name inside the policies folder. Not `*.json`: every `*.json` / `*.yaml` file of that
 * folder is read as a policy.
 */
export const APPROVALS_FILE_NAME = '.schema-approvals.state';

const fileSchema = z.object({
  apiVersion: z.literal('masker/v1'),
  kind: z.literal('SchemaApprovals'),
  routes: z.record(routeNameSchema, z.object({
    approved: z.array(approvedEntrySchema),
    pending: z.array(pendingEntrySchema),
  }).strict()),
}).strict();

type ApprovalsFile = z.infer<typeof fileSchema>;

const EMPTY: ApprovalsFile = { apiVersion: 'masker/v1', kind: 'SchemaApprovals', routes: {} };

export interface FileSchemaApprovalsOptions {
  /** How long a writer waits for another's lock before giving up. Default 10 s. */
  readonly lockTimeoutMs?: number;
  /** A lock file older than this is left over from a crash and removed. Default 30 s. */
  readonly staleLockMs?: number;
}

/**
 * {@link SchemaApprovalStore} in one JSON file, `<policies folder>/.schema-approvals.state` (masker run without
 * REDIS_URL). Readers re-read it only when its mtime, size or inode changed (workers poll that); writers take
 * a lock file (`.lock`, created exclusively), re-read, and replace the file atomically (write a temporary
 * file, fsync, rename), so a reader sees the old file or the new one, never half of one.
 */
export class FileSchemaApprovals implements SchemaApprovalStore {
  readonly description: string;
  private cache: { readonly stamp: string; readonly data: ApprovalsFile } | undefined;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(readonly path: string, options: FileSchemaApprovalsOptions = {}) {
    this.description = `schema approvals file ${path}`;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
  }

  /** The store of a policies folder. */
  static inPoliciesDir(dir: string, options: FileSchemaApprovalsOptions = {}): FileSchemaApprovals {
    return new FileSchemaApprovals(join(dir, APPROVALS_FILE_NAME), options);
  }

  async routes(): Promise<string[]> {
    const data = await this.read();
    return Object.entries(data.routes).filter(([, r]) => r.approved.length + r.pending.length > 0).map(([name]) => name).sort();
  }

  async approved(route: string): Promise<ApprovedSchema[]> {
    assertRoute(route);
    const entries = (await this.read()).routes[route]?.approved ?? [];
    return entries.map((e) => ({ route, ...e })).sort(bySubjectAndId);
  }

  async pending(route: string): Promise<PendingSchema[]> {
    assertRoute(route);
    const entries = (await this.read()).routes[route]?.pending ?? [];
    return entries.map((e) => ({ route, ...e })).sort(bySubjectAndId);
  }

  async recordBaseline(entry: Omit<ApprovedSchema, 'by'>): Promise<boolean> {
    assertRoute(entry.route);
    const value = checkInput(approvedEntrySchema, approvedEntryOf({ ...entry, by: BASELINE_APPROVER }), 'baseline approval');
    return this.update((data): boolean | { readonly unchanged: boolean } => {
      const r = routeOf(data, entry.route);
      if (r.approved.some((a) => a.subject === value.subject)) return { unchanged: false };
      r.approved.push(value);
      return true;
    });
  }

  async addPending(entry: PendingSchema): Promise<PendingResult> {
    assertRoute(entry.route);
    const value = checkInput(pendingEntrySchema, pendingEntryOf(entry), 'pending schema');
    return this.update((data): PendingResult | { readonly unchanged: PendingResult } => {
      const r = routeOf(data, entry.route);
      if (find(r.approved, value.subject, value.schemaId) !== undefined) return { unchanged: 'approved' };
      if (find(r.pending, value.subject, value.schemaId) !== undefined) return { unchanged: 'exists' };
      r.pending.push(value);
      return 'added';
    });
  }

  async approve(route: string, subject: string, schemaId: number, by: string, approvedAt: string): Promise<ApproveResult> {
    assertRoute(route);
    checkInput(subjectNameSchema, subject, 'subject');
    return this.update((data): ApproveResult | { readonly unchanged: ApproveResult } => {
      const r = routeOf(data, route);
      const pending = find(r.pending, subject, schemaId);
      if (pending === undefined) {
        const already = find(r.approved, subject, schemaId);
        return { unchanged: already === undefined ? { status: 'unknown' } : { status: 'already-approved', approved: { route, ...already } } };
      }
      const approved = checkInput(approvedEntrySchema, { subject, schemaId, approvedAt, by, paths: pending.paths }, 'approval');
      r.pending = r.pending.filter((p) => p !== pending);
      r.approved.push(approved);
      return { status: 'approved', approved: { route, ...approved }, pending: { route, ...pending } };
    });
  }

  /**
   * Fails (MASKER_CONFIG) unless the file's folder can be written: checked when a worker starts, so a
   * read-only policies folder is reported at once instead of failing the first record of each new schema.
   */
  async assertWritable(): Promise<void> {
    const dir = dirname(this.path);
    try {
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new MaskerError('MASKER_CONFIG', `${dir}: not writable (${errnoOf(err)}): without REDIS_URL the schema-change guard stores approvals in ${this.path}; make that folder writable, point MASKER_SCHEMA_APPROVALS_FILE at a writable path, or set REDIS_URL`, { cause: err });
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The file's content; re-read only when it changed on disk. A missing file is an empty store. */
  private async read(): Promise<ApprovalsFile> {
    let stamp: string;
    try {
      const s = await stat(this.path);
      stamp = `${s.ino}|${s.size}|${s.mtimeMs}`;
    } catch (err) {
      if (isNotFound(err)) return EMPTY;
      throw new MaskerError('MASKER_CONFIG', `${this.path}: cannot be read (${errnoOf(err)})`, { cause: err });
    }
    if (this.cache?.stamp === stamp) return this.cache.data;
    const data = await this.readFresh();
    this.cache = { stamp, data };
    return data;
  }

  private async readFresh(): Promise<ApprovalsFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return EMPTY;
      throw new MaskerError('MASKER_CONFIG', `${this.path}: cannot be read (${errnoOf(err)})`, { cause: err });
    }
    const data = parseStored(fileSchema, parseStoredJson(text, this.path), this.path);
    for (const [route, entries] of Object.entries(data.routes)) {
      for (const list of ['approved', 'pending'] as const) {
        const seen = new Set<string>();
        entries[list].forEach((e, i) => {
          const field = entryField(e.subject, e.schemaId);
          if (seen.has(field)) throw new MaskerError('MASKER_CONFIG', `${this.path}: routes.${route}.${list}[${i}]: ${field} is listed twice`);
          seen.add(field);
        });
      }
    }
    return data;
  }

  /**
   * Applies `change` to a fresh copy under the lock and writes it, unless `change` returns `{unchanged}`
   * (nothing written). Returns what `change` returned.
   */
  private async update<T>(change: (data: { routes: Record<string, MutableRoute> }) => T | { readonly unchanged: T }): Promise<T> {
    const release = await this.lock();
    try {
      const current = await this.readFresh();
      const data = { routes: Object.fromEntries(Object.entries(current.routes).map(([k, v]) => [k, { approved: [...v.approved], pending: [...v.pending] }])) };
      const result = change(data);
      if (isUnchanged(result)) return result.unchanged;
      await this.write({ apiVersion: 'masker/v1', kind: 'SchemaApprovals', routes: data.routes });
      return result;
    } finally {
      await release();
    }
  }

  private async write(data: ApprovalsFile): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
    try {
      const handle = await open(tmp, 'wx', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new MaskerError('MASKER_CONFIG', `${this.path}: cannot be written (${errnoOf(err)}); the policies folder must be writable for the schema-change guard, or set REDIS_URL`, { cause: err });
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return () => unlink(lockPath).catch(() => undefined);
      } catch (err) {
        if (!isExists(err)) {
          throw new MaskerError('MASKER_CONFIG', `${lockPath}: cannot be created (${errnoOf(err)}); the policies folder must be writable for the schema-change guard, or set REDIS_URL`, { cause: err });
        }
      }
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > this.staleLockMs) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new MaskerError('MASKER_CONFIG', `${lockPath}: held by another writer for over ${this.lockTimeoutMs} ms (remove it if no masker process is running)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

interface MutableRoute {
  approved: ApprovedEntry[];
  pending: PendingEntry[];
}

function routeOf(data: { routes: Record<string, MutableRoute> }, route: string): MutableRoute {
  let r = data.routes[route];
  if (r === undefined) {
    r = { approved: [], pending: [] };
    data.routes[route] = r;
  }
  return r;
}

function find<T extends { subject: string; schemaId: number }>(list: readonly T[], subject: string, schemaId: number): T | undefined {
  return list.find((e) => e.subject === subject && e.schemaId === schemaId);
}

function isUnchanged<T>(value: T | { readonly unchanged: T }): value is { readonly unchanged: T } {
  return typeof value === 'object' && value !== null && 'unchanged' in value;
}

function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'error';
}

function isNotFound(err: unknown): boolean {
  return errnoOf(err) === 'ENOENT';
}

function isExists(err: unknown): boolean {
  return errnoOf(err) === 'EEXIST';
}
