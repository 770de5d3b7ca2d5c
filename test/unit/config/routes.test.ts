import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRoutes, parseRoute } from '../../../src/config/routes.js';

const base = { apiVersion: 'masker/v1', kind: 'Route', name: 'customers', source: { topic: 'prod.a' }, target: { topic: 'staging.a' }, policy: 'default' };

describe('routes', () => {
  it('fills documented defaults', () => {
    expect(parseRoute(base, 'r.yaml')).toMatchObject({ envelope: 'none', key: 'mask', headers: 'drop', allowHeaders: [] });
  });

  it.each([
    [{ ...base, extra: 1 }, /Unrecognized key.*extra/],
    [{ ...base, source: { topic: 'bad topic' } }, /source\.topic: expected a Kafka topic name/],
    [{ ...base, target: { topic: 'prod.a' } }, /target\.topic: source and target topic must differ/],
    [{ ...base, key: 'encrypt' }, /key: Invalid enum value/],
    [{ ...base, name: 'Customers' }, /name: expected \[a-z0-9-\]\+/],
    [{ ...base, kind: 'MaskingPolicy' }, /kind: Invalid literal/],
  ])('rejects %j with the path at fault and the file', (doc, message) => {
    expect(() => parseRoute(doc, 'topics/x.yaml')).toThrow(message);
    expect(() => parseRoute(doc, 'topics/x.yaml')).toThrow(/^topics\/x\.yaml: invalid route/);
  });

  it('loads a folder and refuses duplicate source topics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'masker-routes-'));
    writeFileSync(join(dir, 'a.yaml'), JSON.stringify(base));
    expect(loadRoutes(dir)).toHaveLength(1);
    writeFileSync(join(dir, 'b.yaml'), JSON.stringify({ ...base, name: 'other' }));
    expect(() => loadRoutes(dir)).toThrow(/duplicate source topic "prod.a"/);
  });
});
