import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';
import type { CompiledPlan, KeyRing, MaskingKey, PlanOptions, Policy } from '../../../src/masking/index.js';
import { compilePlan, parsePolicy } from '../../../src/masking/index.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/masking/', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

export function keyRing(secret = 'test-secret-0123456789', id = 'k1'): KeyRing {
  const key: MaskingKey = { id, secret: new TextEncoder().encode(secret) };
  return { active: key, keys: new Map([[id, key]]) };
}

export interface LoadedSchema {
  readonly json: unknown;
  readonly type: Type;
}

export function schema(json: unknown, options?: Partial<avro.ForSchemaOptions>): LoadedSchema {
  return { json, type: avro.Type.forSchema(json as avro.Schema, options) };
}

export function fixtureSchema(name: string): LoadedSchema {
  return schema(JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')));
}

export function exampleSchema(): LoadedSchema {
  return schema(JSON.parse(readFileSync(`${EXAMPLES}customers-cdc.avsc`, 'utf8')));
}

/** A policy document with the given rules and defaults for the rest. */
export function policyDoc(rules: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'masker/v1', kind: 'MaskingPolicy', name: 'test', rules, ...extra };
}

export function policy(rules: unknown[], extra: Record<string, unknown> = {}): Policy {
  return parsePolicy(policyDoc(rules, extra), 'test-policy');
}

export function plan(s: LoadedSchema, p: Policy, options: Partial<PlanOptions> = {}): CompiledPlan {
  return compilePlan(s.type, p, { envelope: 'none', schemaJson: s.json, ...options });
}

/** A record schema with one field, for action tests. */
export function oneField(type: unknown, tags: string[] = ['PII']): LoadedSchema {
  return schema({ type: 'record', name: 'One', fields: [{ name: 'f', type, 'confluent:tags': tags }] });
}

/** Returns the thrown error (fails the test when nothing is thrown). */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`threw a non-Error: ${String(err)}`);
  }
  throw new Error('expected an error, nothing was thrown');
}
