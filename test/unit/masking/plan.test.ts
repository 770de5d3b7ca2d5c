import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { analyzePlan, compilePlan, maskRecord, UNMATCHED_RULE } from '../../../src/masking/index.js';
import { exampleSchema, fixtureSchema, keyRing, oneField, plan, policy, schema, thrown } from './support.js';

const keys = keyRing();
const two = schema({
  type: 'record', name: 'Two', fields: [
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'EMAIL'] },
    { name: 'ssn', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
    { name: 'city', type: 'string' },
  ],
});
const emails = { name: 'emails', match: { tags: ['EMAIL'] }, action: 'pseudonymize', params: { format: 'email' } };

describe('rule selection', () => {
  it('redacts a sensitive field no rule covers, under the (unmatchedSensitive) rule', () => {
    const p = plan(two, policy([emails]));
    expect(p.decisions).toEqual([
      { path: 'email', action: 'pseudonymize', rule: 'emails' },
      { path: 'ssn', action: 'redact', rule: UNMATCHED_RULE },
    ]);
    expect(maskRecord(p, { email: 'a@b.io', ssn: '078-05-1120', city: 'Oslo' }, keys).value).toMatchObject({ ssn: '[REDACTED]', city: 'Oslo' });
  });

  it('quarantines every record when onUnmatchedSensitive is quarantine, naming the path only', () => {
    const p = plan(two, policy([emails], { onUnmatchedSensitive: 'quarantine' }));
    expect(p.quarantineReason).toContain('ssn');
    const err = thrown(() => maskRecord(p, { email: 'a@b.io', ssn: '078-05-1120', city: 'Oslo' }, keys));
    expect(err.code).toBe('MASKER_UNMATCHED_SENSITIVE');
    expect(err.message).toContain('ssn');
    expect(err.message).not.toContain('078-05-1120');
  });

  it('lets the first enabled matching rule win', () => {
    const p = plan(two, policy([
      { name: 'first', match: { path: 'email' }, action: 'redact' },
      { name: 'second', match: { tags: ['EMAIL'] }, action: 'hash' },
    ]));
    expect(p.decisions[0]).toEqual({ path: 'email', action: 'redact', rule: 'first' });
  });

  it('sends the fields of a toggled-off rule to the next rule or to onUnmatchedSensitive', () => {
    const rules = [
      { name: 'first', match: { path: 'email' }, action: 'redact' },
      { name: 'second', match: { tags: ['EMAIL'] }, action: 'hash' },
    ];
    expect(plan(two, policy(rules), { disabledRules: new Set(['first']) }).decisions[0]?.rule).toBe('second');
    expect(plan(two, policy(rules), { disabledRules: new Set(['first', 'second']) }).decisions[0]?.rule).toBe(UNMATCHED_RULE);
  });

  it('never lets a toggle turn a sensitive field into a pass-through (keep behind a disabled rule)', () => {
    const p = plan(two, policy([
      { name: 'hash-email', match: { tags: ['EMAIL'] }, action: 'hash' },
      { name: 'keep-all', match: { path: '**' }, action: 'keep', params: { reason: 'everything else is fine' } },
    ]), { disabledRules: new Set(['hash-email']) });
    expect(p.decisions.find((d) => d.path === 'email')).toEqual({ path: 'email', action: 'redact', rule: UNMATCHED_RULE });
    expect(p.decisions.find((d) => d.path === 'ssn')?.action).toBe('keep');
  });

  it('makes a field sensitive when a rule names one of its tags, even outside sensitiveTags', () => {
    const s = oneField('string', ['CONTACT']);
    const p = plan(s, policy([{ name: 'c', match: { tags: ['CONTACT'] }, action: 'hash' }], { sensitiveTags: [] }), { disabledRules: new Set(['c']) });
    expect(p.decisions).toEqual([{ path: 'f', action: 'redact', rule: UNMATCHED_RULE }]);
  });

  it('masks non-sensitive fields matched by name, path or type', () => {
    const p = plan(two, policy([
      { name: 'cities', match: { name: 'CITY' }, action: 'generalize', params: { keepPrefix: 1 } },
      { name: 'rest', match: { type: 'string', path: 'ssn' }, action: 'nullify' },
    ]));
    expect(maskRecord(p, { email: 'a@b.io', ssn: 'x', city: 'Oslo' }, keys).value).toEqual({ email: '[REDACTED]', ssn: null, city: 'O' });
  });
});

describe('Debezium envelope', () => {
  const s = exampleSchema();

  it('matches rule paths relative to the row, for before and after', () => {
    const p = plan(s, policy([{ name: 'ids', match: { path: 'id' }, action: 'hash' }]), { envelope: 'debezium' });
    expect(p.decisions.filter((d) => d.rule === 'ids').map((d) => d.path)).toEqual(['before.id', 'after.id']);
  });

  it('never masks op, source, ts_ms or transaction, even with a catch-all rule', () => {
    const p = plan(s, policy([{ name: 'everything', match: { path: '**' }, action: 'redact' }]), { envelope: 'debezium' });
    expect(p.decisions.every((d) => d.path.startsWith('before.') || d.path.startsWith('after.'))).toBe(true);
  });

  it('is a plan error for a schema without before/after', () => {
    const err = thrown(() => plan(fixtureSchema('not-an-envelope.avsc'), policy([emails]), { envelope: 'debezium' }));
    expect(err.code).toBe('MASKER_PLAN');
    expect(err.message).toMatch(/envelope debezium: expected field "before"/);
  });
});

describe('plan errors fail closed', () => {
  it('names the field path, the rule, what was expected and what was found', () => {
    const err = thrown(() => plan(fixtureSchema('all-types.avsc'), policy([{ name: 'dates', match: { tags: ['DATE'] }, action: 'mask' }])));
    expect(err.code).toBe('MASKER_PLAN');
    expect(err.message).toContain('policy test cannot be applied');
    expect(err.message).toContain('field born: rule "dates" (mask) cannot apply: expects string (not uuid), found int (logicalType date)');
  });

  it('reports every error in analyzePlan', () => {
    const s = fixtureSchema('all-types.avsc');
    const a = analyzePlan(s.type, policy([{ name: 'n', match: { tags: ['PII'] }, action: 'nullify' }]), { envelope: 'none', schemaJson: s.json });
    expect(a.plan).toBeUndefined();
    expect(a.errors.length).toBeGreaterThan(10);
    expect(a.errors.map((e) => e.path)).toContain('contacts[].value');
  });

  it('refuses recursive schemas, malformed tags, logical-type hooks and a JSON that does not match the type', () => {
    expect(thrown(() => plan(fixtureSchema('recursive.avsc'), policy([emails]))).message).toMatch(/recursive/);
    expect(thrown(() => plan(fixtureSchema('bad-tags.avsc'), policy([emails]))).message).toMatch(/confluent:tags" must be an array/);
    class DateType extends avro.types.LogicalType {
      override _fromValue(v: number): Date { return new Date(v * 86_400_000); }
      override _toValue(d: Date): number { return Math.floor(d.getTime() / 86_400_000); }
    }
    const json = { type: 'record', name: 'D', fields: [{ name: 'd', type: { type: 'int', logicalType: 'date' } }] };
    const hooked = avro.Type.forSchema(json as avro.Schema, { logicalTypes: { date: DateType } });
    const hookErr = thrown(() => compilePlan(hooked, policy([emails]), { envelope: 'none', schemaJson: json }));
    expect(hookErr.message).toMatch(/logical-type hook/);
    const other = schema({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'string' }] });
    expect(thrown(() => compilePlan(two.type, policy([emails]), { envelope: 'none', schemaJson: other.json })).code).toBe('MASKER_PLAN');
  });

  it('warns about rules that never match or never apply', () => {
    const a = analyzePlan(two.type, policy([
      emails,
      { name: 'shadowed', match: { path: 'email' }, action: 'redact' },
      { name: 'ghost', match: { path: '**.passport' }, action: 'redact' },
    ]), { envelope: 'none', schemaJson: two.json });
    const messages = a.warnings.map((w) => w.message).join('\n');
    expect(messages).toContain('rules[1] "shadowed" never applies');
    expect(messages).toContain('rules[2] "ghost" matches no maskable field');
    expect(messages).toContain('field ssn is sensitive');
  });
});
