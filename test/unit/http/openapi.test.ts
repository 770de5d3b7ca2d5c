import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROBLEMS } from '../../../src/http/problem.js';

const DOC_PATH = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));
const doc = parseYaml(readFileSync(DOC_PATH, 'utf8')) as Record<string, unknown>;

function at(path: string): unknown {
  return path.split('/').slice(1).reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('docs/openapi.yaml', () => {
  it('is OpenAPI 3.1 and every $ref resolves', () => {
    expect(doc['openapi']).toBe('3.1.0');
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(10);
    for (const ref of all) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      expect(at(ref.slice(1)), ref).toBeDefined();
    }
  });

  it('lists exactly the problem types the server can answer', () => {
    expect(at('/components/schemas/ProblemSlug/enum')).toEqual(Object.keys(PROBLEMS));
  });

  it('documents a response for every status POST /v1/mask can answer', () => {
    const responses = Object.keys(at('/paths/~1v1~1mask/post/responses') as Record<string, unknown>);
    const statuses = new Set(Object.entries(PROBLEMS).filter(([slug]) => slug !== 'not-found').map(([, p]) => String(p.status)));
    for (const status of ['200', ...statuses]) expect(responses, status).toContain(status);
  });
});
