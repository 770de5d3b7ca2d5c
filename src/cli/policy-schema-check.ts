import { existsSync } from 'node:fs';
import { loadRoutes, type Route } from '../config/routes.js';
import { dispositionOf, MaskerError } from '../errors.js';
import { analyzePlan, parsePolicy } from '../masking/index.js';
import { RegistryClient } from '../registry/registry-client.js';
import { CachedSchemaLookup } from '../registry/schema-cache.js';

interface TextSink {
  write(text: string): unknown;
}

/**
 * Before a push: compiles the candidate policy against the latest registered schemas (value, and key when
 * the route masks keys) of every route in `routesDir` that uses it. Plan errors refuse the push — workers
 * would quarantine every record of that schema. Warnings (rules that match nothing) are printed. When the
 * registry cannot be reached or a subject has no schema yet, that route is skipped with a note: the check
 * helps, the workers still fail closed on their own.
 */
export async function checkPolicyAgainstRoutes(doc: unknown, origin: string, routesDir: string, registryUrl: string | undefined, err: TextSink): Promise<void> {
  const policy = parsePolicy(doc, origin);
  if (!existsSync(routesDir)) return;
  const routes = loadRoutes(routesDir).filter((r) => r.policy === policy.name);
  if (routes.length === 0) return;
  if (registryUrl === undefined) {
    err.write(`note: SCHEMA_REGISTRY_URL not set: ${policy.name} not checked against the schemas of ${routes.map((r) => r.name).join(', ')}\n`);
    return;
  }
  const registry = new RegistryClient({ url: registryUrl, timeoutMs: 5_000 });
  // Resolved as the workers resolve it: with the registry's metadata.tags merged into confluent:tags.
  const lookup = new CachedSchemaLookup(registry);
  const problems: string[] = [];
  for (const route of routes) {
    for (const part of subjectsOf(route)) {
      const subject = `${route.source.topic}-${part}`;
      let latest: Awaited<ReturnType<RegistryClient['latest']>>;
      try {
        latest = await registry.latest(subject);
      } catch {
        err.write(`note: registry unreachable: ${policy.name} not checked against ${subject}\n`);
        continue;
      }
      if (latest === undefined) continue;
      let schema: Awaited<ReturnType<CachedSchemaLookup['byId']>>;
      try {
        schema = await lookup.byId(latest.id);
      } catch (cause) {
        if (dispositionOf(cause) !== 'retry') throw cause;
        err.write(`note: registry unreachable: ${policy.name} not checked against ${subject}\n`);
        continue;
      }
      const analysis = analyzePlan(schema.type, policy, { envelope: part === 'value' ? route.envelope : 'none', schemaJson: schema.json });
      for (const w of analysis.warnings) err.write(`warning: route ${route.name}, ${subject} v${latest.version}: ${w.message}\n`);
      for (const e of analysis.errors) problems.push(`route ${route.name}, ${subject} v${latest.version}: ${e.message}`);
    }
  }
  if (problems.length > 0) {
    throw new MaskerError('MASKER_PLAN', `${origin}: policy ${policy.name} cannot be applied to schemas its routes use; not pushed:\n  ${problems.join('\n  ')}`);
  }
}

function subjectsOf(route: Route): ('value' | 'key')[] {
  return route.key === 'mask' ? ['value', 'key'] : ['value'];
}
