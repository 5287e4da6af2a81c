import { defineConfig } from 'vitest/config';

// The tests run on Node 20 on purpose (the CLI supports it); the SDK's notice that its 2027 releases
// need Node 22 is for users deciding on an upgrade, not news in every run. Set here, it reaches the
// global setup (the emulators) and every test process and CLI child.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
