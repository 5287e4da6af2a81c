/**
 * Benchmark: `trib persist --to duckdb:FILE` on a generated Singer file of keyed ~1.1 KB records,
 * beside DuckDB's own `INSERT … SELECT FROM read_ndjson` of the same records into a keyed table,
 * in the same run. Run: npm run bench:duckdb [-- RECORDS]   (default 1,000,000)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateFiles } from './generate-records.ts';
import { measure, rate } from './measure.ts';

const count = Number(process.argv[2] ?? 1_000_000);
const folder = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
const singer = join(folder, 'records.singer.jsonl');
const ndjson = join(folder, 'records.ndjson');
const tribBin = new URL('../bin/trib.js', import.meta.url).pathname;

try {
  process.stderr.write(`generating ${count.toLocaleString('en-US')} records in ${folder} ...\n`);
  await generateFiles({ singer, ndjson, count });
  const sizeMb = statSync(singer).size / 1e6;

  const trib = await measure(
    process.execPath,
    [tribBin, 'persist', '--to', `duckdb:${join(folder, 'trib.duckdb')}`, '--tap', 'bench'],
    { stdinFile: singer },
  );

  const baselineStarted = process.hrtime.bigint();
  const instance = await DuckDBInstance.create(join(folder, 'baseline.duckdb'));
  const connection = await instance.connect();
  await connection.run(
    `CREATE TABLE customers (id BIGINT PRIMARY KEY, name VARCHAR, email VARCHAR, status VARCHAR, amount DECIMAL(38,2), quantity BIGINT, active BOOLEAN, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, address JSON, tags JSON, description VARCHAR)`,
  );
  await connection.run(
    `INSERT INTO customers SELECT * FROM read_ndjson('${ndjson}', columns = {id: 'BIGINT', name: 'VARCHAR', email: 'VARCHAR', status: 'VARCHAR', amount: 'DECIMAL(38,2)', quantity: 'BIGINT', active: 'BOOLEAN', created_at: 'TIMESTAMPTZ', updated_at: 'TIMESTAMPTZ', address: 'JSON', tags: 'JSON', description: 'VARCHAR'})`,
  );
  connection.closeSync();
  instance.closeSync();
  const baselineSeconds = Number(process.hrtime.bigint() - baselineStarted) / 1e9;

  const check = await DuckDBInstance.create(join(folder, 'trib.duckdb'));
  const checkConnection = await check.connect();
  const loaded = Number(
    (await checkConnection.runAndReadAll('SELECT count(*) FROM bench.customers')).getRows()[0]?.[0],
  );
  checkConnection.closeSync();
  check.closeSync();
  if (loaded !== count) throw new Error(`trib persist loaded ${loaded} records, expected ${count}`);

  console.log(
    `DuckDB persist benchmark: ${count.toLocaleString('en-US')} keyed records, ${sizeMb.toFixed(0)} MB of Singer messages`,
  );
  console.log(
    `  trib persist --to duckdb       ${trib.seconds.toFixed(1)} s  ${rate(count, trib.seconds)}  peak memory ${trib.peakMb?.toFixed(0) ?? 'n/a'} MB`,
  );
  console.log(
    `  DuckDB read_ndjson (baseline)  ${baselineSeconds.toFixed(1)} s  ${rate(count, baselineSeconds)}`,
  );
  console.log(`  ratio trib / baseline          ${(baselineSeconds / trib.seconds).toFixed(2)}`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
