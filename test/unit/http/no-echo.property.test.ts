import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MaskerError } from '../../../src/errors.js';
import type { ApiKeyEntry } from '../../../src/http/api-keys.js';
import { parseMaskRequest } from '../../../src/http/mask-request.js';
import { MaskService, type CallFacts } from '../../../src/http/mask-service.js';
import { HttpProblem, problemBody } from '../../../src/http/problem.js';
import { parseSchema } from '../../../src/registry/schema-cache.js';
import { activePolicy, DEFAULT_POLICY_DOC, keyRing, PERSON_SCHEMA } from './support.js';

const RUNS = Number(process.env['MASKER_PROPERTY_RUNS'] ?? 200);
const schema = parseSchema(1, JSON.stringify(PERSON_SCHEMA));
const service = new MaskService({
  registry: { latest: () => Promise.resolve({ id: 1, version: 1, schema: schema.text }) },
  lookup: { byId: (id) => (id === 1 ? Promise.resolve(schema) : Promise.reject(new MaskerError('MASKER_SCHEMA_NOT_FOUND', 'x'))), register: () => Promise.reject(new Error('unused')) },
  policies: { policyFor: () => activePolicy(DEFAULT_POLICY_DOC) },
  servedPolicies: new Set(['default']),
  defaultPolicy: 'default',
  keys: keyRing(),
});
const key: ApiKeyEntry = { id: 'k', digest: Buffer.alloc(32), policies: undefined };

/** A secret: long enough that finding it by chance in an answer is impossible. */
const secret = fc.string({ minLength: 8, maxLength: 30 }).map((s) => `S3cr3t${s.replace(/\s/g, '_')}`);
/** Anything JSON, with the secret planted somewhere (as a value, as a key, or as the whole thing). */
const withSecret = (s: string): fc.Arbitrary<unknown> => fc.oneof(
  fc.constant(s),
  fc.constant({ [s]: 1 }),
  fc.constant([1, s]),
  fc.constant({ string: s }),
  fc.constant({ [s]: s }),
  fc.jsonValue().map((v) => ({ v, s })),
);

describe('no answer of /v1/mask echoes a record value (property)', () => {
  it('for records that do not match the schema, in any field or shape', async () => {
    const fieldNames = ['id', 'name', 'email', 'phone', 'tags', 'extra'];
    await fc.assert(fc.asyncProperty(secret, fc.constantFrom(...fieldNames), fc.nat(5), async (s, field, variant) => {
      const bad = await fc.sample(withSecret(s), { numRuns: 1, seed: variant })[0];
      const record: Record<string, unknown> = { id: 1, name: s, email: s, phone: { string: s }, tags: { k: s }, [field]: bad };
      const facts: CallFacts = { subject: null, schemaId: null, policy: null, fields: [] };
      let text: string;
      try {
        text = JSON.stringify(await service.mask(parseMaskRequest({ subject: 'x-value', record }), key, facts));
        // Masked: the tagged fields hold no trace of the secret; untagged `tags` may keep it (not PII).
        const masked = JSON.parse(text) as { record: Record<string, unknown> };
        expect(JSON.stringify([masked.record['name'], masked.record['email'], masked.record['phone']])).not.toContain(s);
      } catch (err) {
        if (!(err instanceof HttpProblem)) throw err;
        text = JSON.stringify(problemBody(err, 'r')) + err.reason;
        expect(text).not.toContain(s);
      }
      expect(JSON.stringify(facts)).not.toContain(s);
    }), { numRuns: RUNS });
  });

  it('for request bodies that are not mask requests (values anywhere; unknown key NAMES are shown, values never)', () => {
    fc.assert(fc.property(secret, fc.nat(5), (s, variant) => {
      const body = fc.sample(fc.oneof(
        fc.constant({ subject: s, schemaId: 1, record: {} }),
        fc.constant({ schemaId: s, record: {} }),
        fc.constant({ subject: 'a', record: {}, policy: s }),
        fc.constant({ subject: 'a', record: {}, envelope: s }),
        fc.constant({ subject: 'a', record: {}, extra: s }),
        fc.constant([s]),
        fc.constant(s),
      ), { numRuns: 1, seed: variant })[0];
      try {
        parseMaskRequest(body);
      } catch (err) {
        if (!(err instanceof HttpProblem)) throw err;
        expect(JSON.stringify(problemBody(err, 'r'))).not.toContain(s);
        return;
      }
      expect(body).toMatchObject({ subject: s }); // accepted: only a (long) subject can be
    }), { numRuns: RUNS });
  });
});
