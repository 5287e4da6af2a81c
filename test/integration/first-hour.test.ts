/** What a newcomer does in the first hour, as the README has them do it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('trib query takes a DuckDB file too, prints an aligned table, and --format csv|json|jsonl', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'c.json'), '{"customers": 3, "orders": 0}');
    expect(
      (
        await shell(
          '"$TRIB" tap sample --config c.json | "$TRIB" persist --to duckdb:w.duckdb --tap shop',
          folder,
        )
      ).code,
    ).toBe(0);
    const table = await trib(
      ['query', 'w.duckdb', 'SELECT id, plan FROM shop.customers ORDER BY id'],
      folder,
    );
    expect(table.stdout).toMatch(/^id +plan\n {1}1 +\w+\n {1}2 +\w+\n {1}3 +\w+\n\(3 rows\)\n$/);
    expect(table.stdout).not.toContain('(index)');
    const csv = await trib(
      ['query', 'duckdb:w.duckdb', 'SELECT id, plan FROM shop.customers ORDER BY id', '--format', 'csv'],
      folder,
    );
    expect(csv.stdout.split('\n')[0]).toBe('id,plan');
    const jsonl = await trib(
      ['query', 'w.duckdb', 'SELECT id FROM shop.customers ORDER BY id', '--format', 'jsonl'],
      folder,
    );
    expect(jsonl.stdout).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
    const missing = await trib(['query', 'nope.duckdb', 'SELECT 1'], folder);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.duckdb: no such DuckDB file/);
  });

  it('the local stage does not grow for ever: loaded chunks older than stage.keep are pruned after a run', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\nstage: { keep: 0s }\ntaps:\n  sample:\n    streamer: sample\n    config: { customers: 50, orders: 0 }\n',
    );
    const run = await trib(['run', 'pipeline.yaml'], folder);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /tap sample: \d+ loaded chunks? older than stage\.keep removed from the stage/,
    );
    const { readdirSync } = await import('node:fs');
    const left = readdirSync(join(folder, '.tributary', 'stage', 'sample'), { recursive: true }).filter(
      (name) => String(name).endsWith('.jsonl.gz'),
    );
    expect(left).toEqual([]);
    const second = await trib(['run', 'pipeline.yaml'], folder);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/customers +\d+ +20 +/); // the bookmark is in the state, not the stage
  });

  it('trib run says how fast each tap went and ends with one line across taps; on a terminal it shows an ETA for a first sync', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\ntaps:\n  shop:\n    streamer: sample\n    config: { customers: 30000, orders: 0 }\n  other:\n    streamer: sample\n    config: { customers: 10, orders: 5 }\n',
    );
    const run = await trib(['run', 'pipeline.yaml'], folder);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^shop: succeeded, 30,000 records read in \d+\.\ds \([\d,]+ records\/s\), 1 chunk loaded$/m,
    );
    expect(run.stdout).toMatch(
      /^2 taps: 2 succeeded · 30,015 records read · 30,015 inserted, 0 updated, 0 deleted · 2 chunks loaded · \d+\.\ds \([\d,]+ records\/s\)$/m,
    );
    // A pseudo-terminal (util-linux script), as a person at a shell sees it. The rate (and so the
    // ETA) shows once reading has taken a second: 30,000 records no longer take that long.
    const fresh = temporaryFolder();
    writeFileSync(
      join(fresh, 'pipeline.yaml'),
      readFileSync(join(folder, 'pipeline.yaml'), 'utf8').replace('customers: 30000', 'customers: 200000'),
    );
    const tty = await shell('script -qec "\\"$TRIB\\" run pipeline.yaml --tap shop" /dev/null', fresh);
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(
      /shop \| [\d,]+ records read of 200,000 \| [\d,-]+ records\/s \| \d+ chunks staged \| \d+ loaded \| \d+s \| ETA \d+s/,
    );
  });

  it('trib completion bash|zsh|fish prints a script that registers trib; suggestions come from the commands, options and streamers', async () => {
    const folder = temporaryFolder();
    const bash = await shell(
      '"$TRIB" completion bash > trib.bash && bash -n trib.bash && bash -c \'source trib.bash && complete -p trib\'',
      folder,
    );
    expect(bash.code, bash.stderr).toBe(0);
    expect(bash.stdout).toMatch(/^complete -F __trib_complete trib$/m);
    expect((await trib(['completion', 'zsh'], folder)).stdout).toMatch(/^#compdef trib$/m);
    expect((await trib(['completion', 'fish'], folder)).stdout).toMatch(/complete -c trib/);
    const suggestions = async (...words: string[]) =>
      (await trib(['complete', '--', ...words], folder)).stdout
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith(':'))
        .map((line) => line.split('\t')[0]);
    expect(await suggestions('')).toEqual(
      expect.arrayContaining(['run', 'status', 'query', 'ingest', 'completion']),
    );
    expect(await suggestions('ingest', 'keys', '')).toEqual(
      expect.arrayContaining(['create', 'list', 'revoke']),
    );
    expect(await suggestions('run', '--')).toEqual(expect.arrayContaining(['--tap', '--dry-run']));
    expect(await suggestions('streamers', '')).toEqual([
      'chargebee',
      'drift',
      'github',
      'ingest',
      'pagerduty',
      'sample',
    ]);
    expect(await suggestions('init', '--streamer', '')).toContain('github');
    expect((await trib(['version'], folder)).stdout.trim()).toBe(
      (await trib(['--version'], folder)).stdout.trim(),
    );
  });

  it('a stage that cannot hold chunks is named before the source is read', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'not-a-folder'), 'x');
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\nstage: { path: not-a-folder/stage }\ntaps:\n  sample:\n    streamer: sample\n',
    );
    const run = await trib(['run', 'pipeline.yaml'], folder);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /StageNotWritableError: the stage .*not-a-folder\/stage cannot hold chunks: it \(or a folder above it\) is a file, not a folder\. Point stage\.path/,
    );
    expect(run.stderr).not.toMatch(/caused by/);
  });

  it("trib init writes a commented pipeline.yaml that runs as written, and never overwrites one; trib schema prints the file's schema", async () => {
    const folder = temporaryFolder();
    const init = await trib(['init'], folder);
    expect(init.stdout).toMatch(/Wrote pipeline\.yaml\. Next: npx trib run pipeline\.yaml/);
    expect(readFileSync(join(folder, 'pipeline.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\/pipeline\.schema\.json/,
    );
    expect(JSON.parse(readFileSync(join(folder, 'pipeline.schema.json'), 'utf8'))).toHaveProperty(
      'properties.taps',
    );
    const run = await trib(['run', 'pipeline.yaml'], folder);
    expect(run.code, run.stderr).toBe(0);
    const again = await trib(['init'], folder);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/pipeline\.yaml exists already; it is not overwritten/);
    const schema = await trib(['schema'], folder);
    const published = JSON.parse(schema.stdout);
    expect(published).toHaveProperty('required', ['destination']);
    expect(Object.keys(published.properties)).toEqual(expect.arrayContaining(['taps', 'ingest']));
  });

  it('a DuckDB file named after a tap works: its tables are not ambiguous with the file name', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'c.json'), '{"customers": 4, "orders": 0}');
    const piped = await shell(
      '"$TRIB" tap sample --config c.json | "$TRIB" persist --to duckdb:shop.duckdb --tap shop',
      folder,
    );
    expect(piped.code, piped.stderr).toBe(0);
    const counted = await trib(
      ['query', 'shop.duckdb', 'SELECT count(*) AS n FROM shop.customers', '--format', 'jsonl'],
      folder,
    );
    expect(counted.stdout).toBe('{"n":4}\n');
  });

  it("refuses a tap named like one of DuckDB's own catalogs", async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\ntaps:\n  system: { streamer: sample }\n',
    );
    const result = await trib(['run', 'pipeline.yaml'], folder);
    expect(result.stderr).toMatch(/taps\.system: DuckDB keeps a catalog of its own named "system"/);
  });
});
