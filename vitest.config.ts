import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One broker on a 2-core machine: test files run one at a time (unit files are fast anyway).
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Starts (or reuses) the local stack unless KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL are set.
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
