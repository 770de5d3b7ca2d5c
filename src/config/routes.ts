import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MaskerError } from '../errors.js';
import { yamlProblem } from './yaml-problem.js';

const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name ([A-Za-z0-9._-], ≤ 249)');

/** A route document (`topics/*.yaml`). Strict: unknown keys are rejected. */
export const routeSchema = z
  .object({
    apiVersion: z.literal('masker/v1'),
    kind: z.literal('Route'),
    name: z.string().regex(/^[a-z0-9-]+$/, 'expected [a-z0-9-]+'),
    source: z.object({ topic: topicName }).strict(),
    target: z.object({ topic: topicName }).strict(),
    /** Policy name; with Redis, `masker:route:<name>:policy` overrides it at run time. */
    policy: z.string().regex(/^[a-z0-9-]+$/, 'expected [a-z0-9-]+'),
    /** `debezium`: mask `before`/`after` with paths relative to the row. Default `none`. */
    envelope: z.enum(['debezium', 'none']).default('none'),
    /** Avro keys: `mask` (same policy; non-Avro keys are quarantined), `keep`, or `drop`. Default `mask`. */
    key: z.enum(['mask', 'keep', 'drop']).default('mask'),
    /** Headers: `drop` all (default), `keep` all, or `mask` = keep only the names in `allowHeaders`. */
    headers: z.enum(['drop', 'keep', 'mask']).default('drop'),
    /** Header names kept when `headers: mask`. Default none. */
    allowHeaders: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((r) => r.source.topic !== r.target.topic, { message: 'source and target topic must differ', path: ['target', 'topic'] });

export type Route = z.infer<typeof routeSchema>;

export function parseRoute(doc: unknown, origin: string): Route {
  const parsed = routeSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
    throw new MaskerError('MASKER_CONFIG', `${origin}: invalid route: ${problems}`);
  }
  return parsed.data;
}

/** Loads every `*.yaml` / `*.yml` / `*.json` route in a folder; names and source topics must be unique. */
export function loadRoutes(dir: string): Route[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (cause) {
    throw new MaskerError('MASKER_CONFIG', `routes folder ${dir} cannot be read (--routes)`, { cause });
  }
  if (files.length === 0) throw new MaskerError('MASKER_CONFIG', `no route files (*.yaml) in ${dir} (--routes)`);
  const routes = files.map((f) => {
    const path = join(dir, f);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(path, 'utf8'));
    } catch (cause) {
      throw new MaskerError('MASKER_CONFIG', `${path}: ${yamlProblem(cause)}`, { cause });
    }
    return parseRoute(doc, path);
  });
  assertUnique(routes.map((r) => r.name), 'route name');
  assertUnique(routes.map((r) => r.source.topic), 'source topic');
  return routes;
}

function assertUnique(values: string[], what: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new MaskerError('MASKER_CONFIG', `duplicate ${what} "${v}" in routes`);
    seen.add(v);
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc === '' ? String(p) : `${acc}.${String(p)}`), '') || '(root)';
}
