import { describe } from 'vitest';
import { crashSuite } from './support/crash-suite.js';
import { targetBrokers } from './support/services.js';

const TOTAL = Number(process.env['MASKER_CRASH_RECORDS'] ?? 600);
const KILLS = Number(process.env['MASKER_CRASH_KILLS'] ?? 3);

crashSuite('exactly once across SIGKILLs', { total: TOTAL, kills: KILLS });

// Two clusters: a transaction cannot span them, so the source position is stored in the target cluster
// with the target transaction. Smaller: it runs on top of the single-cluster case.
const target = targetBrokers();
if (target === undefined) {
  describe.skip('exactly once across SIGKILLs, separate target cluster (MASKER_TEST_TARGET_BROKERS not set)', () => undefined);
} else {
  crashSuite('exactly once across SIGKILLs, separate target cluster', {
    total: Number(process.env['MASKER_CRASH_TARGET_RECORDS'] ?? 300),
    kills: KILLS,
    targetBrokers: target,
  });
}
