import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/setup/postgres.ts', 'test/setup/aws.ts'],
    // .ci/run counts passed and failed tests from this report.
    ...(process.env.TRIB_VITEST_JSON === undefined
      ? {}
      : { reporters: ['default', 'json'], outputFile: { json: process.env.TRIB_VITEST_JSON } }),
  },
});
