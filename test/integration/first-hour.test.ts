/** What a newcomer does in the first hour, as the README has them do it. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../helpers/chunks.ts';
import { shell, trib } from '../helpers/cli.ts';

describe('the first hour', () => {
  it('the README pipe on a first run: no state.json yet means "from the beginning", and the pipe writes one', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'config.json'), '{}');
    const result = await shell(
      'set -o pipefail; "$TRIB" tap sample --config config.json --state state.json | "$TRIB" persist --to duckdb:warehouse.duckdb | tail -1 > state.json.new && mv state.json.new state.json',
      folder,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /state\.json does not exist yet, so the sync starts from the beginning \(a first run\)/,
    );
    expect(existsSync(join(folder, 'state.json'))).toBe(true);
  });

  it('trib --version, and trib streamers lists every connector, and one in detail', async () => {
    expect((await trib(['--version'], temporaryFolder())).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const all = await trib(['streamers'], temporaryFolder());
    for (const name of ['sample', 'github', 'pagerduty', 'chargebee', 'drift'])
      expect(all.stdout).toContain(name);
    const github = await trib(['streamers', 'github'], temporaryFolder());
    expect(github.stdout).toMatch(/access_token +.*\(required, secret, \$GITHUB_ACCESS_TOKEN\)/);
    expect(github.stdout).toMatch(/commits +key repository, sha; incremental on committed_at/);
  });
});
