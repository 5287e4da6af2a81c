/**
 * Singer both ways with programs Tributary did not write: a Singer tap (Python, standard library)
 * run as a pipeline's streamer, and a Singer target as its destination, through `trib run` as a user
 * runs it. The tap's events stream has no key and a 19-digit bookmark, so a bookmark that lost
 * precision or a chunk loaded twice shows as a duplicate row, not hidden by an upsert.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../helpers/chunks.ts';
import { shell, trib } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/paths.ts';
import { queryWarehouse } from '../helpers/warehouse.ts';

const python = spawnSync('python3', ['--version']).status === 0;
if (!python)
  console.warn(
    'test/integration/singer.test.ts: skipped: no python3 on this machine to run the fixture tap and target',
  );

const fixtures = join(repoRoot, 'test', 'fixtures', 'singer');
const tapCommand = `python3 ${join(fixtures, 'tap_fixture.py')}`;
const targetCommand = `python3 ${join(fixtures, 'target_fixture.py')}`;
const BASE = 1234567890123456789n;

function data(widgets: number, events: number, edits: Record<number, string> = {}) {
  return {
    widgets: Array.from({ length: widgets }, (_, index) => ({
      id: index + 1,
      name: edits[index + 1] ?? `widget ${index + 1}`,
      price: Number(((index + 1) * 1.1).toFixed(2)),
      updated_at: `2026-01-0${1 + Math.min(index, 8)}T10:00:00Z`,
    })),
    // written as text: JSON.stringify cannot write a 19-digit integer exactly
    events: Array.from({ length: events }, (_, index) => ({
      seq: `@${BASE + BigInt(index)}@`,
      kind: 'click',
    })),
  };
}

function writeData(folder: string, value: ReturnType<typeof data>) {
  writeFileSync(join(folder, 'data.json'), JSON.stringify(value).replaceAll(/"@(\d+)@"/g, '$1'));
}

const query = queryWarehouse;

const tapPipeline = (extra = '') => `
destination: { type: duckdb, path: warehouse.duckdb }
taps:
  fixture:
    streamer: { command: "${tapCommand}" }
    config: { data: data.json${extra} }
`;

describe.runIf(python)('Singer taps and targets', () => {
  it('a Singer tap as the streamer: discovered, selected, its stderr shown, its 19-digit bookmark kept exact, nothing read twice', async () => {
    const folder = temporaryFolder();
    writeData(folder, data(3, 3));
    writeFileSync(join(folder, 'pipeline.yaml'), tapPipeline());
    const first = await trib(['run', 'pipeline.yaml'], folder);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/tap_fixture\.py: INFO syncing widgets: 3 records since None/);
    expect(first.stdout).toMatch(/events +3 +3/);
    const state = readFileSync(join(folder, '.tributary', 'state', 'fixture.json'), 'utf8');
    expect(state).toContain(`"seq": ${BASE + 2n}`);

    // Changes at the source: a widget edited and one added, three events more.
    writeData(folder, data(4, 6, { 3: 'renamed' }));
    const second = await trib(['run', 'pipeline.yaml'], folder);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`syncing events: 3 records since ${BASE + 2n}`));
    const [events] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT seq) AS d, max(seq)::VARCHAR AS top FROM fixture.events',
    );
    expect(events).toEqual({ n: 6n, d: 6n, top: String(BASE + 5n) });
    const widgets = await query(folder, 'SELECT id, name FROM fixture.widgets ORDER BY id');
    expect(widgets).toEqual([
      { id: 1n, name: 'widget 1' },
      { id: 2n, name: 'widget 2' },
      { id: 3n, name: 'renamed' },
      { id: 4n, name: 'widget 4' },
    ]);
  });

  it('streams: selects in the discovered catalog; a stream the tap does not offer is refused, naming its streams', async () => {
    const folder = temporaryFolder();
    writeData(folder, data(2, 2));
    writeFileSync(join(folder, 'pipeline.yaml'), `${tapPipeline()}    streams: [widgets]\n`);
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const tables = await query(
      folder,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fixture' ORDER BY 1",
    );
    expect(tables).toEqual([{ table_name: 'widgets' }]);
    writeFileSync(join(folder, 'pipeline.yaml'), `${tapPipeline()}    streams: [gadgets]\n`);
    const refused = await trib(['run', 'pipeline.yaml'], folder);
    expect(refused.code).toBe(1);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(
      /streams: gadgets is not in the tap's catalog\. Its streams: widgets, events/,
    );
  });

  it('pipes both ways: the Python tap into trib persist, and trib tap into the Python target', async () => {
    const folder = temporaryFolder();
    writeData(folder, data(3, 3));
    writeFileSync(join(folder, 'c.json'), '{"data": "data.json"}');
    const persisted = await shell(
      `${tapCommand} --config c.json | "$TRIB" persist --to duckdb:warehouse.duckdb --tap fixture`,
      folder,
    );
    expect(persisted.code, persisted.stderr).toBe(0);
    const last = JSON.parse(
      persisted.stdout
        .trim()
        .split('\n')
        .at(-1)
        ?.replaceAll(/(\d{16,})/g, '"$1"') ?? '{}',
    );
    expect(last.bookmarks.events.seq).toBe(String(BASE + 2n));
    const [rows] = await query(
      folder,
      'SELECT (SELECT count(*) FROM fixture.widgets) AS w, (SELECT count(*) FROM fixture.events) AS e',
    );
    expect(rows).toEqual({ w: 3n, e: 3n });

    writeFileSync(join(folder, 't.json'), '{"path": "out"}');
    writeFileSync(join(folder, 's.json'), '{"customers": 40, "orders": 60}');
    const targeted = await shell(
      `"$TRIB" tap sample --config s.json | ${targetCommand} --config t.json`,
      folder,
    );
    expect(targeted.code, targeted.stderr).toBe(0);
    expect(
      readFileSync(join(folder, 'out', 'customers.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(40);
    expect(
      readFileSync(join(folder, 'out', 'orders.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(60);
    expect(JSON.parse(targeted.stdout.trim().split('\n').at(-1) ?? '{}')).toHaveProperty('bookmarks');
  });

  it('a tap that exits non-zero fails the run, names its last words, and keeps what it read up to its last STATE', async () => {
    const folder = temporaryFolder();
    writeData(folder, data(3, 3));
    writeFileSync(join(folder, 'pipeline.yaml'), tapPipeline(', fail_after: 5'));
    const failed = await trib(['run', 'pipeline.yaml'], folder);
    expect(failed.code).toBe(1);
    expect(`${failed.stdout}${failed.stderr}`).toMatch(
      /failed: the tap exited with code 1; its last words on stderr:[\s\S]*CRITICAL the API refused the request/,
    );
    // 5 records were read; the tap's last STATE came after the 4th: those four are loaded.
    const [loaded] = await query(
      folder,
      'SELECT (SELECT count(*) FROM fixture.widgets) AS w, (SELECT count(*) FROM fixture.events) AS e',
    );
    expect(loaded).toEqual({ w: 3n, e: 1n });
    writeFileSync(join(folder, 'pipeline.yaml'), tapPipeline());
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const [events] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT seq) AS d FROM fixture.events',
    );
    expect(events).toEqual({ n: 3n, d: 3n });
  });

  it('trib replay of an orphan chunk (staged by a run that never recorded it) is refused and loads nothing, before and after the tap moved past it', async () => {
    const folder = temporaryFolder();
    writeData(folder, data(2, 3));
    writeFileSync(join(folder, 'pipeline.yaml'), tapPipeline());
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const stage = join(folder, '.tributary', 'stage', 'fixture');
    const committed = () =>
      JSON.parse(readFileSync(join(folder, '.tributary', 'state', 'fixture.json'), 'utf8')).committed as {
        run: string;
        seq: number;
      };
    // What a run whose state write failed after its put leaves: the next chunk of its run, never
    // recorded as staged, holding records the tap reads again (here: the run's own first chunk's).
    const first = committed();
    const from = join(stage, first.run, '000000.jsonl.gz');
    const orphanSeq = String(first.seq + 1).padStart(6, '0');
    const orphan = join(stage, first.run, `${orphanSeq}.jsonl.gz`);
    writeFileSync(orphan, readFileSync(from));
    const metadata = JSON.parse(readFileSync(`${from}.meta.json`, 'utf8'));
    writeFileSync(
      `${orphan}.meta.json`,
      JSON.stringify({ ...metadata, seq: first.seq + 1, previous: { run: first.run, seq: first.seq } }),
    );
    const events = async () =>
      (await query(folder, 'SELECT count(*) AS n, count(DISTINCT seq) AS d FROM fixture.events'))[0];
    const ahead = await trib(['replay', orphan, '--pipeline', 'pipeline.yaml'], folder);
    expect(ahead.code).toBe(1);
    expect(ahead.stderr).toMatch(/was never recorded as staged .* so it is not loaded/);
    writeData(folder, data(2, 5));
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    expect(committed().run).not.toBe(first.run); // the tap moved on past the orphan
    const behind = await trib(['replay', orphan, '--pipeline', 'pipeline.yaml'], folder);
    expect(behind.code).toBe(1);
    expect(behind.stderr).toMatch(
      /was never recorded as staged .*: a later run read its records again \(the tap is committed through .*\), so it is not loaded/,
    );
    expect(await events()).toEqual({ n: 5n, d: 5n }); // unkeyed: a second load would show
    const listing = await trib(['chunks', 'fixture', '--pipeline', 'pipeline.yaml'], folder);
    expect(listing.stdout).toMatch(new RegExp(`${first.run}/${orphanSeq} +orphaned`));
    expect(listing.stdout).toMatch(
      new RegExp(`${first.run}/${String(first.seq).padStart(6, '0')} +committed`),
    );
    const [ledger] = await query(
      folder,
      `SELECT count(*) AS n FROM main._tributary_chunks WHERE tap = 'fixture' AND run = '${first.run}' AND seq = ${first.seq + 1}`,
    );
    expect(ledger?.n).toBe(0n);
  });

  it('trib rewind after a crash between a load and its bookmark write keeps what the ledger holds: the next run reads nothing twice', async () => {
    const folder = temporaryFolder();
    writeData(folder, data(2, 3));
    writeFileSync(join(folder, 'pipeline.yaml'), tapPipeline());
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    // The state as a crash after the commit, before the committed bookmark was written, leaves it.
    const stateFile = join(folder, '.tributary', 'state', 'fixture.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    const loaded = state.committed as { run: string; seq: number };
    delete state.committed;
    writeFileSync(stateFile, JSON.stringify(state));
    const rewound = await trib(['rewind', 'fixture', '--pipeline', 'pipeline.yaml', '--yes'], folder);
    expect(rewound.code, rewound.stderr).toBe(0);
    expect(rewound.stdout).toMatch(
      new RegExp(
        `Chunk ${loaded.run}/${String(loaded.seq).padStart(6, '0')} is in the destination's ledger though its bookmark was never recorded as committed`,
      ),
    );
    expect(rewound.stdout).toMatch(/The next run starts from the committed bookmark \(chunk /);
    writeData(folder, data(2, 4));
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const [events] = await query(
      folder,
      'SELECT count(*) AS n, count(DISTINCT seq) AS d FROM fixture.events',
    );
    expect(events).toEqual({ n: 4n, d: 4n }); // unkeyed: a re-read from the start would show
  });

  it('a Singer target as the destination: each chunk delivered once, confirmed by its STATE; a replay delivers nothing again', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      `
destination: { type: singer, command: "${targetCommand}", config: { path: out } }
taps:
  sample:
    streamer: sample
    config: { customers: 300, orders: 0, state_every: 100 }
    chunk: { max_records: 100 }
`,
    );
    const first = await trib(['run', 'pipeline.yaml'], folder);
    expect(first.code, first.stderr).toBe(0);
    const lines = () =>
      readFileSync(join(folder, 'out', 'customers.jsonl'), 'utf8')
        .trim()
        .split('\n');
    expect(lines()).toHaveLength(300);
    const delivered = JSON.parse(
      readFileSync(join(folder, '.tributary', 'delivered', 'sample.json'), 'utf8'),
    ) as { runs: Record<string, { through: number }> };
    const [run, entry] = Object.entries(delivered.runs)[0] ?? [];
    const state = JSON.parse(readFileSync(join(folder, '.tributary', 'state', 'sample.json'), 'utf8'));
    expect(entry?.through).toBe(state.committed.seq); // every chunk of the run, through the last
    expect(entry?.through).toBeGreaterThanOrEqual(2);
    const chunk = join(folder, '.tributary', 'stage', 'sample', String(run), '000000.jsonl.gz');
    const replay = await trib(['replay', chunk, '--pipeline', 'pipeline.yaml'], folder);
    expect(replay.stdout).toMatch(/already loaded \(in the ledger\); nothing loaded again/);
    expect(lines()).toHaveLength(300);
    const second = await trib(['run', 'pipeline.yaml'], folder);
    expect(second.code, second.stderr).toBe(0);
    const ids = lines().map((line) => JSON.parse(line).id as number);
    // The second run brings the 20 new customers and the changed ones, once each.
    expect(ids.filter((id) => id > 300)).toHaveLength(20);
    expect(ids.length).toBeLessThan(300 + 20 + 60);
  });

  it('a target that fails: the run fails naming it, nothing is recorded as delivered, and the bookmark stays', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      `
destination: { type: singer, command: "${targetCommand}", config: { path: out, fail_on_name: "Grace Hopper" } }
taps:
  sample:
    streamer: sample
    config: { customers: 50, orders: 0 }
`,
    );
    const failed = await trib(['run', 'pipeline.yaml'], folder);
    expect(failed.code).toBe(1);
    expect(`${failed.stdout}${failed.stderr}`).toMatch(
      /target_fixture\.py exited with code 1; its last words on stderr:\s+line \d+: refusing record/,
    );
    expect(existsSync(join(folder, '.tributary', 'delivered', 'sample.json'))).toBe(false);
    const state = JSON.parse(readFileSync(join(folder, '.tributary', 'state', 'sample.json'), 'utf8'));
    expect(state.committed).toBeUndefined();
  });
});

describe('trib persist as a Singer target', () => {
  it('trib persist prints a STATE with a 19-digit id and a 64-bit LSN exactly as the tap sent it (#14.3)', async () => {
    const folder = temporaryFolder();
    const state = '{"bookmarks":{"t":{"since_id":1234567890123456789,"lsn":18446744073709551615}}}';
    writeFileSync(
      join(folder, 'in.jsonl'),
      `{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}\n{"type":"RECORD","stream":"t","record":{"id":1}}\n{"type":"STATE","value":${state}}\n`,
    );
    const result = await shell('"$TRIB" persist --to duckdb:w.duckdb --tap exact < in.jsonl', folder);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').at(-1)).toBe(state);
  });

  it('reads the Stitch Streams transit variant into DuckDB: cache codes, ~m times, ~i integers beyond 2^53, keywords (#15)', async () => {
    const folder = temporaryFolder();
    const result = await shell(
      `"$TRIB" persist --to duckdb:w.duckdb --tap drift < ${join(repoRoot, 'test', 'fixtures', 'protocol', 'stitch-transit.stitch')}`,
      folder,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('{"updated_at":"2017-03-23T21:58:37.123Z"}');
    const rows = await queryWarehouse(
      folder,
      'SELECT id::VARCHAR AS id, contact_id::VARCHAR AS contact, status, created_at::VARCHAR AS at FROM drift.conversations ORDER BY id',
      'w.duckdb',
    );
    expect(rows).toEqual([
      { id: '42', contact: '7', status: null, at: '2017-03-23 21:58:37.123+00' },
      {
        id: '9007199254740993',
        contact: '1234567890123456789',
        status: 'open',
        at: '2017-03-23 21:58:36+00',
      },
    ]);
  });

  it('--undeclared-properties drop loads what the schema declares and makes no _tributary_extra column', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'in.jsonl'),
      '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}\n{"type":"RECORD","stream":"t","record":{"id":1,"colour":"red"}}\n{"type":"STATE","value":1}\n',
    );
    const result = await shell(
      '"$TRIB" persist --to duckdb:w.duckdb --tap d --undeclared-properties drop < in.jsonl',
      folder,
    );
    expect(result.code, result.stderr).toBe(0);
    const columns = await queryWarehouse(
      folder,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'd' AND table_name = 't'",
      'w.duckdb',
    );
    expect(columns.map((row) => row.column_name)).toContain('id');
    expect(columns.map((row) => row.column_name)).not.toContain('_tributary_extra');
  });
});
