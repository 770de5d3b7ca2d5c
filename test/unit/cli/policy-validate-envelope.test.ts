import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/mask-command.js';
import { runPolicyValidateCommand } from '../../../src/cli/policy-validate-command.js';

/** `masker policy validate --schema`: what happens to tagged and free-text Debezium envelope fields. */

const SCHEMA = fileURLToPath(new URL('../../fixtures/masking/cdc-envelope-tags.avsc', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'masker-validate-envelope-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { io: CliIo; out: () => string } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  return { io: { stdout, stderr: new PassThrough(), stdin: Readable.from([]), env: {} }, out: () => Buffer.concat(chunks).toString('utf8') };
}

function policyFile(name: string, extra: string[] = []): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, [
    'apiVersion: masker/v1', 'kind: MaskingPolicy', `name: ${name}`, ...extra, 'rules:',
    '  - { name: emails, match: { tags: [EMAIL] }, action: pseudonymize, params: { format: email } }',
    '  - { name: phones, match: { tags: [PHONE] }, action: redact }',
  ].join('\n'));
  return path;
}

describe('masker policy validate --schema with a Debezium envelope', () => {
  it('says what happens to every tagged and free-text envelope field', () => {
    const file = policyFile('envelope-default');
    const c = capture();
    expect(runPolicyValidateCommand(file, { schema: SCHEMA }, c.io)).toBe(0);
    const out = c.out();
    expect(out).toContain(`${file}: warning: field source.email is tagged PII, EMAIL in the envelope: rule "emails" (pseudonymize)\n`);
    expect(out).toContain(`${file}: warning: field source.query is free text in the Debezium envelope: scrubbed (envelope.freeText: scrub)\n`);
    expect(out).toContain(`${file}: warning: field transaction.user is tagged PII in the envelope but no enabled rule covers it: redacted (onUnmatchedSensitive: redact)\n`);
    expect(out).toMatch(/valid for .*cdc-envelope-tags\.avsc \(envelope debezium\): 0 error\(s\), 3 warning\(s\)/);
    // Untagged envelope metadata is not reported: nothing happens to it.
    expect(out).not.toMatch(/field (op|ts_ms|source\.connector|transaction\.id)\b/);
  });

  it('shows envelope.freeText: keep, with and without a schema', () => {
    const file = policyFile('envelope-keep', ['envelope: { freeText: keep }']);
    const withSchema = capture();
    expect(runPolicyValidateCommand(file, { schema: SCHEMA }, withSchema.io)).toBe(0);
    expect(withSchema.out()).toContain(`${file}: warning: field source.query is free text in the Debezium envelope: passes through unmasked (envelope.freeText: keep)\n`);
    const alone = capture();
    expect(runPolicyValidateCommand(file, {}, alone.io)).toBe(0);
    expect(alone.out()).toContain(`${file}: warning: envelope.freeText: keep: Debezium free-text envelope fields (source.query) pass through unmasked unless tagged\n`);
  });

  it('says when onUnmatchedSensitive: quarantine makes a tagged envelope field quarantine every record', () => {
    const file = policyFile('envelope-quarantine', ['onUnmatchedSensitive: quarantine', 'envelope: { freeText: redact }']);
    const c = capture();
    expect(runPolicyValidateCommand(file, { schema: SCHEMA }, c.io)).toBe(0);
    expect(c.out()).toContain('warning: field transaction.user is tagged PII in the envelope but no enabled rule covers it: every record is quarantined (onUnmatchedSensitive: quarantine)');
    expect(c.out()).toContain('warning: field source.query is free text in the Debezium envelope: redacted (envelope.freeText: redact)');
  });

  it('rejects unknown keys in the envelope section with their path', () => {
    const file = policyFile('envelope-bad', ['envelope: { freeText: scrub, fields: [source.query] }']);
    const c = capture();
    expect(runPolicyValidateCommand(file, {}, c.io)).toBe(2);
    expect(c.out()).toContain(`${file}: error: envelope.fields: unknown key\n`);
  });
});
