import { describe, expect, it } from 'vitest';
import type { PlanAnalysis } from '../../../src/masking/index.js';
import { ACTION_NAMES, analyzePlan } from '../../../src/masking/index.js';
import { oneField, policy } from './support.js';

/**
 * Plan errors say what an action expects and sometimes suggest other actions ("use redact"). A suggestion
 * must itself compile for that field, or the user follows the hint into the next plan error. This checks
 * every (action, params, field type) that is a plan error: each action its message names must compile on
 * the same field type with at least one of that action's parameter variants.
 */

type ActionName = (typeof ACTION_NAMES)[number];

/** Parameter variants per action: together they reach every applicability rule of the action. */
const VARIANTS: Readonly<Record<ActionName, readonly (Record<string, unknown> | undefined)[]>> = {
  redact: [undefined, { replacement: 'x' }, { replacement: 1 }, { replacement: 1.5 }, { replacement: true }, { replacement: 'A' }],
  nullify: [undefined],
  mask: [undefined, { keepLast: 2 }],
  hash: [undefined, { length: 16 }],
  pseudonymize: [{ format: 'email' }, { format: 'uuid' }],
  'date-shift': [undefined],
  generalize: [{ bucket: 10 }, { bucket: 0.5 }, { keepPrefix: 3 }],
  scrub: [undefined, { replace: 'pseudonym' }],
  keep: [{ reason: 'test' }],
};

/** Every scalar type and logical type a leaf can have. */
const TYPES: readonly unknown[] = [
  'null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string',
  { type: 'fixed', name: 'F', size: 4 },
  { type: 'enum', name: 'E', symbols: ['A', 'B'] },
  { type: 'int', logicalType: 'date' },
  { type: 'int', logicalType: 'time-millis' },
  { type: 'long', logicalType: 'time-micros' },
  { type: 'long', logicalType: 'timestamp-millis' },
  { type: 'long', logicalType: 'timestamp-micros' },
  { type: 'long', logicalType: 'local-timestamp-millis' },
  { type: 'long', logicalType: 'local-timestamp-micros' },
  { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 },
  { type: 'fixed', name: 'D', size: 8, logicalType: 'decimal', precision: 9, scale: 2 },
  { type: 'fixed', name: 'Duration', size: 12, logicalType: 'duration' },
  { type: 'string', logicalType: 'uuid' },
];

/** Each type as is and as a nullable union, which changes what `nullify` accepts. */
const FIELD_TYPES: readonly unknown[] = TYPES.flatMap((t) => (t === 'null' ? [t] : [t, ['null', t]]));

function analyze(type: unknown, action: ActionName, params: Record<string, unknown> | undefined): PlanAnalysis {
  const s = oneField(type);
  const p = policy([{ name: 'r', match: { tags: ['PII'] }, action, ...(params === undefined ? {} : { params }) }]);
  return analyzePlan(s.type, p, { envelope: 'none', schemaJson: s.json });
}

function compiles(type: unknown, action: ActionName): boolean {
  return VARIANTS[action].some((params) => analyze(type, action, params).errors.length === 0);
}

/** The actions a plan-error message names, outside its `rule "r" (action)` prefix. */
function actionsNamed(message: string, action: ActionName): ActionName[] {
  const prefix = `field f: rule "r" (${action}) `;
  expect(message.startsWith(prefix)).toBe(true);
  const hint = message.slice(prefix.length);
  return ACTION_NAMES.filter((name) => new RegExp(`(^|[^\\w-])${name}(?![\\w-])`).test(hint));
}

interface PlanErrorCase { type: unknown; action: ActionName; params: Record<string, unknown> | undefined; message: string }

function planErrors(): PlanErrorCase[] {
  const cases: PlanErrorCase[] = [];
  for (const type of FIELD_TYPES) {
    for (const action of ACTION_NAMES) {
      for (const params of VARIANTS[action]) {
        for (const issue of analyze(type, action, params).errors) cases.push({ type, action, params, message: issue.message });
      }
    }
  }
  return cases;
}

describe('plan-error hints', () => {
  const cases = planErrors();

  it('finds plan errors for every action but keep, and hints that name actions (the check below is not vacuous)', () => {
    expect(new Set(cases.map((c) => c.action))).toEqual(new Set(ACTION_NAMES.filter((a) => a !== 'keep')));
    expect(cases.filter((c) => actionsNamed(c.message, c.action).length > 0).length).toBeGreaterThan(0);
  });

  it('names only actions that compile on the same field type', () => {
    const wrong: string[] = [];
    for (const c of cases) {
      for (const named of actionsNamed(c.message, c.action)) {
        if (!compiles(c.type, named)) wrong.push(`${c.action} ${JSON.stringify(c.params)} on ${JSON.stringify(c.type)} suggests ${named}: ${c.message}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('knows which actions compile (sanity of the check itself)', () => {
    const decimal = { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 };
    expect(compiles(decimal, 'redact')).toBe(true);
    expect(compiles(decimal, 'generalize')).toBe(false);
    expect(compiles(decimal, 'hash')).toBe(false);
    expect(compiles(decimal, 'nullify')).toBe(false);
    expect(compiles(['null', decimal], 'nullify')).toBe(true);
    expect(compiles('long', 'date-shift')).toBe(false);
    expect(compiles({ type: 'long', logicalType: 'timestamp-micros' }, 'date-shift')).toBe(true);
    expect(actionsNamed('field f: rule "r" (hash) cannot apply: expects x (use redact or date-shift, not masking), found y', 'hash'))
      .toEqual(['redact', 'date-shift']);
  });
});
