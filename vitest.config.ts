import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The tests run on Node 20 on purpose (the CLI supports it); the SDK's notice that its 2027 releases
// need Node 22 is for users deciding on an upgrade, not news in every run. Set here, it reaches the
// global setup (the emulators) and every test process and CLI child.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Guards against a hang, not speed checks: CI machines have run the suite 3 to 5 times slower
    // than a developer's, and a test that takes 12 s here must not time out there.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Vitest's default leaves one core idle, which on CI's 2 cores runs the files one at a time; most
    // tests wait on child processes, servers and disks, so two at a time takes about two thirds as long.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/setup/postgres.ts', 'test/setup/aws.ts'],
    // .ci/run counts passed and failed tests from this report.
    ...(process.env.TRIB_VITEST_JSON === undefined
      ? {}
      : { reporters: ['default', 'json'], outputFile: { json: process.env.TRIB_VITEST_JSON } }),
  },
});
