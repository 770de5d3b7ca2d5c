import { describe, expect, it } from 'vitest';
import { policyStoreSettings } from '../../../src/cli/policy-store-settings.js';

describe('policyStoreSettings', () => {
  it('reads REDIS_URL, MASKER_POLICY_VERIFY_KEY and MASKER_SCHEMA_APPROVALS_FILE from the environment it is given', () => {
    expect(policyStoreSettings({ REDIS_URL: 'redis://h:6379', MASKER_POLICY_VERIFY_KEY: 'k.pem', MASKER_SCHEMA_APPROVALS_FILE: '/v/a.state' }))
      .toEqual({ redisUrl: 'redis://h:6379', verifyKey: 'k.pem', approvalsFile: '/v/a.state' });
  });

  it('treats unset and blank settings as not set (folder, no signatures, default approvals file)', () => {
    expect(policyStoreSettings({ REDIS_URL: '', MASKER_POLICY_VERIFY_KEY: '  ' }))
      .toEqual({ redisUrl: undefined, verifyKey: undefined, approvalsFile: undefined });
  });

  it('rejects an invalid REDIS_URL naming the setting', () => {
    expect(() => policyStoreSettings({ REDIS_URL: 'http://h' })).toThrow(/REDIS_URL/);
  });
});
