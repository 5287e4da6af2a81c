/** The `trib` command as a user runs it: real processes, real files, real pipes. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../lib/state/file-state-store.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { collect, shell, trib, tribBin } from '../helpers/cli.ts';
import { queryWarehouse } from '../helpers/warehouse.ts';

const pipelineYaml = (customers: number, orders: number) => `
destination: { type: duckdb, path: warehouse.duckdb }
taps:
  sample:
    streamer: sample
    schedule: rate(1 hour)
    config: { customers: ${customers}, orders: ${orders}, state_every: 1000 }
`;

const query = queryWarehouse;

/**
 * The sample tap adds 20 customers a run once a tick is done. Whether an interrupted run staged the
 * end of its tick is a race, so tests that count rows across an interruption turn that off.
 */
const withoutNewCustomers = (yaml: string) =>
  yaml.replace('state_every: 1000', 'state_every: 1000, new_customers_per_run: 0');

/**
 * A folder whose first run staged chunks it could not load: a table of the same name that the load
 * cannot write into blocks them. `fix()` removes it; `chunk(seq)` is the path of a staged chunk.
 */
async function stagedButNotLoaded() {
  const folder = temporaryFolder();
  // No new customers per run: whether the failed run staged its last STATE (the end of tick 0) or
  // stopped before it is a race, and either way the next run must find the same 3,000 customers.
  const yaml = withoutNewCustomers(pipelineYaml(3_000, 0));
  writeFileSync(join(folder, 'pipeline.yaml'), `${yaml}    chunk: { max_records: 1000 }\n`);
  await trib(
    ['query', 'pipeline.yaml', 'CREATE SCHEMA sample; CREATE TABLE sample.customers (id BIGINT)'],
    folder,
  );
  const failed = await trib(['run', 'pipeline.yaml'], folder);
  const stateStore = new FileStateStore(join(folder, '.tributary', 'state'));
  const run = (await stateStore.read('sample')).staged?.run ?? '';
  return {
    folder,
    failed,
    stateStore,
    fix: () => trib(['query', 'pipeline.yaml', 'DROP TABLE sample.customers'], folder),
    chunk: (seq: number) =>
      join(folder, '.tributary', 'stage', 'sample', run, `${String(seq).padStart(6, '0')}.jsonl.gz`),
  };
}

/** Starts `trib run` in `folder` and resolves once its first chunk is committed, the run still going. */
async function runUntilCommitted(folder: string) {
  const child = spawn(process.execPath, [tribBin, 'run', 'pipeline.yaml'], { cwd: folder });
  const finished = collect(child);
  const stateFile = join(folder, '.tributary', 'state', 'sample.json');
  for (let waited = 0; waited < 60_000; waited += 20) {
    if (existsSync(stateFile) && JSON.parse(readFileSync(stateFile, 'utf8')).committed !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, finished, stateFile };
}

describe('trib CLI', () => {
  it('run: the first run loads everything, the second only what changed, and status tells', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipelineYaml(3_000, 4_000));
    const first = await trib(['run', 'pipeline.yaml'], folder);
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/tap sample {2}\[ok\]/);
    expect(first.stdout).toMatch(/customers +3,000 +3,000 +0 +0/);
    expect(first.stdout).toMatch(/Warehouse: .*warehouse\.duckdb/);
    const second = await trib(['run', 'pipeline.yaml'], folder);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/customers +\d+ +20 +\d+ +0/);
    const [counts] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT id) AS d FROM sample.customers',
    );
    expect(counts).toEqual({ n: 3020n, d: 3020n });
    const status = await trib(['status', 'pipeline.yaml'], folder);
    expect(status.stdout).toMatch(/last run: +succeeded/);
    expect(status.stdout).toMatch(/lag: +0 chunks staged but not loaded/);
    const shown = await trib(['query', 'pipeline.yaml', 'select count(*) as n from sample.orders'], folder);
    expect(shown.stdout).toMatch(/4100/);
  });

  it('the README pipe: tap | persist | tail -1 keeps the committed bookmark, and the next run reads only changes', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'c.json'), '{"customers": 500, "orders": 800}');
    const pipe =
      '"$TRIB" tap sample --config c.json --state state.json | "$TRIB" persist --to duckdb:warehouse.duckdb | tail -1 > state.json.new && mv state.json.new state.json';
    writeFileSync(join(folder, 'state.json'), '');
    const first = await shell(pipe, folder);
    expect(first.code).toBe(0);
    const bookmark = JSON.parse(readFileSync(join(folder, 'state.json'), 'utf8'));
    expect(bookmark).toMatchObject({
      bookmarks: {
        customers: { partitions: { '': { tick: 0 } } },
        orders: { partitions: { '': { tick: 0 } } },
      },
    });
    const [ledger] = await query(
      folder,
      "SELECT bookmark::VARCHAR AS b FROM main._tributary_chunks WHERE tap = 'singer' ORDER BY run DESC, seq DESC LIMIT 1",
    );
    expect(JSON.parse(String(ledger?.b))).toEqual(bookmark);
    const second = await shell(pipe, folder);
    expect(second.code).toBe(0);
    expect(JSON.parse(readFileSync(join(folder, 'state.json'), 'utf8'))).toMatchObject({
      bookmarks: { customers: { partitions: { '': { tick: 1 } } } },
    });
    const [counts] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT id) AS d FROM singer.customers',
    );
    expect(counts).toEqual({ n: 520n, d: 520n });
    // With pipefail (as the README says), a load that fails leaves the state as it was.
    const kept = readFileSync(join(folder, 'state.json'), 'utf8');
    const failed = await shell(
      pipe.replace('duckdb:warehouse.duckdb', 'duckdb:missing/dir/x.duckdb'),
      folder,
    );
    expect(failed.code).not.toBe(0);
    expect(readFileSync(join(folder, 'state.json'), 'utf8')).toBe(kept);
  });

  it('persist reads the Stitch Streams framing too', async () => {
    const folder = temporaryFolder();
    const result = await shell(
      '"$TRIB" tap sample --config /dev/null --format stitch | head -c 100000000 | "$TRIB" persist --to duckdb:warehouse.duckdb --tap stitched',
      folder,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/6,000 records/);
    const [counts] = await query(folder, 'SELECT count(*) AS n FROM stitched.orders');
    expect(counts?.n).toBe(5000n);
  });

  it('replay of a loaded chunk loads nothing and moves no bookmark', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipelineYaml(1_000, 1_000));
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const stateStore = new FileStateStore(join(folder, '.tributary', 'state'));
    const before = await stateStore.read('sample');
    const chunk = join(
      folder,
      '.tributary',
      'stage',
      'sample',
      before.committed?.run ?? '',
      '000000.jsonl.gz',
    );
    expect(existsSync(chunk)).toBe(true);
    const replay = await trib(['replay', chunk, '--pipeline', 'pipeline.yaml'], folder);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/already loaded \(in the ledger\); nothing loaded again/);
    expect((await stateStore.read('sample')).committed).toEqual(before.committed);
    const [counts] = await query(folder, 'SELECT count(*) AS n FROM sample.customers');
    expect(counts?.n).toBe(1000n);
    const bad = await trib(['replay', join(folder, 'pipeline.yaml')], folder);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /is not a chunk: expected a path ending in stage\/<tap>\/<run>\/<seq>\.jsonl\.gz/,
    );
  });

  it('a chunk that cannot load: fix the cause, then redrive (or replay the chunk) loads it and every chunk after it, once', {
    timeout: 240_000,
  }, async () => {
    for (const how of ['redrive', 'replay'] as const) {
      const { folder, failed, stateStore, fix, chunk } = await stagedButNotLoaded();
      expect(failed.code).toBe(1);
      expect(`${failed.stdout}${failed.stderr}`).toMatch(
        /fix the cause, then load the waiting chunks with `trib redrive sample`/,
      );
      const stuck = await trib(['status'], folder);
      expect(stuck.stdout).toMatch(/lag: +[1-9]\d* chunks? staged but not loaded/);
      await fix();
      const state = await stateStore.read('sample');
      const first = chunk(0);
      if (how === 'redrive')
        expect((await trib(['redrive', 'sample', '--dry-run'], folder)).stdout).toMatch(
          /would deliver stage\/sample\/.*000000\.jsonl\.gz \(1000 records\)[\s\S]*Dry run: nothing delivered/,
        );
      const unstuck =
        how === 'redrive'
          ? await trib(['redrive', 'sample'], folder)
          : await trib(['replay', first, '--pipeline', 'pipeline.yaml'], folder);
      expect(unstuck.code, unstuck.stderr).toBe(0);
      expect(unstuck.stdout).toMatch(/000001\.jsonl\.gz: loaded 1000 records/);
      const after = await stateStore.read('sample');
      expect(after.committed?.seq).toBe(state.staged?.seq);
      expect((await trib(['status'], folder)).stdout).toMatch(/lag: +0 chunks/);
      const again = await trib(['redrive', 'sample'], folder);
      expect(again.stdout).toMatch(/tap sample: no chunks waiting/);
      expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
      const [counts] = await query(
        folder,
        'SELECT count(*) AS n, count(DISTINCT id) AS d FROM sample.customers',
      );
      expect(counts).toEqual({ n: 3000n, d: 3000n });
    }
  });

  it('a damaged or lost staged chunk is named with the fix; trib rewind drops what waits and the next run reads it again, once (#13.3)', {
    timeout: 240_000,
  }, async () => {
    for (const damage of ['truncate', 'garble', 'delete'] as const) {
      const { folder, failed, fix, chunk } = await stagedButNotLoaded();
      expect(failed.code).toBe(1); // staged, not loaded
      await fix();
      const second = chunk(1);
      const bytes = readFileSync(second);
      if (damage === 'truncate') writeFileSync(second, bytes.subarray(0, bytes.length - 20));
      if (damage === 'garble') {
        bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
        writeFileSync(second, bytes);
      }
      if (damage === 'delete') rmSync(second);
      const stuck = await trib(['run', 'pipeline.yaml'], folder);
      expect(stuck.code, damage).toBe(1);
      expect(`${stuck.stdout}${stuck.stderr}`, damage).toMatch(
        /000001\.jsonl\.gz is damaged: .*`trib rewind sample`/,
      );
      if (damage !== 'delete') {
        const listed = await trib(['chunks', 'sample'], folder);
        expect(listed.stdout).toMatch(/\/000000 +committed +1,000/);
        expect(listed.stdout).toMatch(/\/000001 +waiting \(next\) +1,000/);
        expect(listed.stdout).toMatch(/The last run said: chunk .*000001\.jsonl\.gz is damaged/);
      }
      const dry = await trib(['rewind', 'sample', '--dry-run'], folder);
      expect(dry.stdout).toMatch(/the next run starts from the committed bookmark/);
      if (damage !== 'delete')
        expect(dry.stdout).toMatch(/Dropped .*: [1-9]\d* chunks?\n {2}stage\/sample\/.*000001\.jsonl\.gz/);
      expect(dry.stdout).toMatch(/Dry run: nothing changed/);
      const refused = await trib(['rewind', 'sample'], folder); // no TTY, no --yes
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/add --yes/);
      const rewound = await trib(['rewind', 'sample', '--yes'], folder);
      expect(rewound.code, rewound.stderr).toBe(0);
      expect(rewound.stdout).toMatch(/rewound\. The next run starts from the committed bookmark/);
      const again = await trib(['run', 'pipeline.yaml'], folder);
      expect(again.code, again.stdout).toBe(0);
      const [counts] = await query(
        folder,
        'SELECT count(*) AS n, count(DISTINCT id) AS d FROM sample.customers',
      );
      expect(counts, damage).toEqual({ n: 3000n, d: 3000n });
    }
  });

  it('trib chunks skip --accept-data-loss skips only the next waiting chunk, its successors then load, and status shows the skip', async () => {
    const { folder, failed, stateStore, fix, chunk } = await stagedButNotLoaded();
    expect(failed.code).toBe(1);
    await fix();
    const state = await stateStore.read('sample');
    const notNext = await trib(['chunks', 'skip', chunk(1), '--accept-data-loss'], folder);
    expect(notNext.code).toBe(1);
    expect(notNext.stderr).toMatch(/only the next chunk to load can be skipped: that is .*\/000000/);
    const withoutConsent = await trib(['chunks', 'skip', chunk(0)], folder);
    expect(withoutConsent.code).not.toBe(0);
    expect(withoutConsent.stderr).toMatch(/--accept-data-loss/);
    const skipped = await trib(
      ['chunks', 'skip', chunk(0), '--accept-data-loss', '--reason', 'source purged'],
      folder,
    );
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(
      /Skipped chunk .*\/000000 of tap sample: 1,000 records not loaded \(reason: source purged\)/,
    );
    expect((await trib(['redrive', 'sample'], folder)).stdout).toMatch(
      /000001\.jsonl\.gz: loaded 1000 records/,
    );
    // All but the skipped chunk's records: what chunks 1..staged.seq hold (the last may hold only the
    // closing STATE, when the failed run got that far).
    let staged = 0;
    for (let seq = 1; seq <= (state.staged?.seq ?? 0); seq += 1)
      staged += JSON.parse(readFileSync(`${chunk(seq)}.meta.json`, 'utf8')).records;
    const [counts] = await query(folder, 'SELECT count(*) AS n, min(id) AS low FROM sample.customers');
    expect(counts).toEqual({ n: BigInt(staged), low: 1001n });
    expect((await trib(['status'], folder)).stdout).toMatch(
      /skipped: +chunk .*\/000000 \(1,000 records never loaded\) by .*: source purged/,
    );
    expect((await trib(['chunks', 'sample'], folder)).stdout).toMatch(
      /\/000000 +SKIPPED by .*: source purged/,
    );
  });

  it('trib reset forgets the bookmark: the next run reads everything again', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipelineYaml(500, 0));
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const reset = await trib(['reset', 'sample', '--yes'], folder);
    expect(reset.stdout).toMatch(/the start \(the bookmark is forgotten\)/);
    const again = await trib(['run', 'pipeline.yaml'], folder);
    expect(again.stdout).toMatch(/customers +500 +0 +500 +0 +ok/);
  });

  it('a run killed with SIGKILL mid-way: the next run finishes with every record exactly once', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), withoutNewCustomers(pipelineYaml(150_000, 0)));
    // kill once the first chunk is committed, while later ones are still being staged and loaded
    const { child, finished, stateFile } = await runUntilCommitted(folder);
    child.kill('SIGKILL');
    await finished;
    const killedAt = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(killedAt.lease).toBeDefined(); // the killed run never released it
    expect(killedAt.committed.bookmark.bookmarks.customers.partitions[''].after_id).toBeDefined(); // killed mid-tick
    const rerun = await trib(['run', 'pipeline.yaml'], folder);
    expect(rerun.stderr).toMatch(/taking over the lease/);
    expect(rerun.code).toBe(0);
    const [counts] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT id) AS d FROM sample.customers',
    );
    expect(counts).toEqual({ n: 150000n, d: 150000n });
  });

  it('Ctrl-C during trib run stops at the next STATE, keeps what was read, releases the lease; the next run finishes once (#13.4)', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), withoutNewCustomers(pipelineYaml(150_000, 0)));
    const { child, finished, stateFile } = await runUntilCommitted(folder);
    child.kill('SIGINT');
    const result = await finished;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: stopping at the next STATE/);
    expect(result.stdout).toMatch(/tap sample {2}\[INTERRUPTED\]/);
    expect(result.stdout).toMatch(/Interrupted\. What was read is loaded and committed/);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.lease).toBeUndefined();
    expect(state.committed.seq).toBe(state.staged.seq);
    const status = await trib(['status'], folder);
    expect(status.stdout).toMatch(/last run: +interrupted at/);
    const rerun = await trib(['run', 'pipeline.yaml'], folder);
    expect(rerun.code).toBe(0);
    const [counts] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT id) AS d FROM sample.customers',
    );
    expect(counts).toEqual({ n: 150000n, d: 150000n });
  });

  it('schedule --once runs each scheduled tap once and exits', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipelineYaml(500, 500));
    const result = await trib(['schedule', 'pipeline.yaml', '--once'], folder);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/tap sample {2}\[ok\]/);
    const [counts] = await query(folder, 'SELECT count(*) AS n FROM sample.customers');
    expect(counts?.n).toBe(500n);
  });

  it('every command has --help, and bad input says what to do', async () => {
    for (const command of [
      'run',
      'schedule',
      'tap',
      'persist',
      'replay',
      'redrive',
      'rewind',
      'reset',
      'status',
      'query',
    ]) {
      const help = await trib([command, '--help'], temporaryFolder());
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: trib /);
    }
    const missing = await trib(['run', 'nope.yaml'], temporaryFolder());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /PipelineConfigError: nope\.yaml: no such pipeline file here \(.*\)\. Give the pipeline file, e\.g\. examples\/pipeline\.yaml/,
    );
    const badTo = await trib(['persist', '--to', 'postgres://user:secret@host/db'], temporaryFolder());
    expect(badTo.stderr).not.toMatch(/secret/);
  });

  it('a reader that closes stdout early ends trib quietly, as SIGPIPE ends a program (128 + 13)', async () => {
    for (const args of [
      ['complete', '--', ''], // written by the completion library's console.log
      ['tap', 'sample', '--config', '/dev/null'], // written by trib, honouring back-pressure
    ]) {
      const child = spawn(process.execPath, [tribBin, ...args], {
        cwd: temporaryFolder(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.destroy(); // the reader has gone before trib writes anything
      const result = await collect(child);
      expect(result.code, `trib ${args.join(' ')}`).toBe(141);
      expect(result.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
    }
  });
});
