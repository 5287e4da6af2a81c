/**
 * Push end to end, as a user runs it: `trib ingest serve` in its own process, the EventStreamer in
 * this one, 10,000 events from `log()` to rows, with the server killed (SIGKILL) and started again in
 * the middle. Every event must be a row exactly once, with its value as logged.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStreamer } from '../../lib/push/event-streamer.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { tribBin } from '../helpers/cli.ts';
import { isolatedPostgres } from '../helpers/postgres.ts';
import { queryWarehouse } from '../helpers/warehouse.ts';

const KEY = 'push-e2e-access-key-0123456789';
const postgres = isolatedPostgres('push');
afterAll(() => postgres.dropSchemas());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function serve(folder: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    process.execPath,
    [tribBin, 'ingest', 'serve', 'pipeline.yaml', '--port', String(port), '--load-every', '1'],
    {
      cwd: folder,
      env: { ...process.env, INGEST_KEY: KEY },
    },
  );
  let output = '';
  child.stdout?.on('data', (piece: Buffer) => {
    output += piece.toString();
  });
  child.stderr?.on('data', (piece: Buffer) => {
    output += piece.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trib ingest serve did not start:\n${output}`)), 30_000);
    child.stdout?.on('data', () => {
      if (output.includes('listening on http://127.0.0.1:')) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    });
    child.on('exit', (code) => reject(new Error(`trib ingest serve exited with ${code}:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function pushTenThousand(folder: string): Promise<void> {
  const port = await freePort();
  let server = await serve(folder, port);
  const events = new EventStreamer({
    endpoint: `http://127.0.0.1:${port}`,
    accessKey: KEY,
    bucketKey: 'line_1',
    bucketName: 'Line 1',
    bufferSize: 100,
    flushIntervalMs: 50,
    spoolDir: join(folder, 'spool'),
    handleExit: false,
    logLevel: 'silent',
    attempts: 2,
    backoffBaseMs: 10,
    reconnectDelayMs: 100,
  });
  for (let index = 0; index < 10_000; index += 1) {
    events.log(
      index % 2 === 0 ? 'count' : 'label',
      index % 2 === 0 ? index : `item ${index}`,
      1_764_000_000 + index / 1000,
    );
    if (index === 4_000) {
      await events.flush();
      server.child.kill('SIGKILL'); // mid-stream: requests in flight are lost, their answers too
      await exited(server.child);
    }
    if (index === 6_000) server = await serve(folder, port);
    if (index % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const closed = await events.close(60_000);
  expect(closed.dropped).toBe(0);
  expect(closed.spoolFiles).toBe(0);
  // The outage was real: batches went to the spool and were resubmitted once the server was back.
  expect(closed.spooled).toBeGreaterThan(0);
  expect(closed.resubmitted).toBe(closed.spooled);
  expect(closed.sent).toBeGreaterThanOrEqual(10_000);
  server.child.kill('SIGINT'); // the server loads what it accepted last, then exits
  expect(await exited(server.child), server.output()).toBe(0);
}

describe('push ingestion end to end', () => {
  it('10,000 events from log() to DuckDB rows, exactly once, with the endpoint killed and restarted', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: warehouse.duckdb }\ningest: { tap: events, keys: ["${env:INGEST_KEY}"] }\n',
    );
    await pushTenThousand(folder);
    const [summary] = await queryWarehouse(
      folder,
      `SELECT count(*)::INTEGER AS rows, count(DISTINCT event_id)::INTEGER AS ids,
              sum(value_number)::BIGINT AS total, count(value_text)::INTEGER AS labels,
              min(bucket_name) AS bucket, max(event_time) AS last
         FROM events.events`,
    );
    expect(summary).toMatchObject({
      rows: 10_000,
      ids: 10_000,
      total: 24_995_000n,
      labels: 5_000,
      bucket: 'Line 1',
    });
    const [odd] = await queryWarehouse(
      folder,
      "SELECT value_text FROM events.events WHERE value_text = 'item 9999'",
    );
    expect(odd).toEqual({ value_text: 'item 9999' });
  }, 180_000);

  it('the same into PostgreSQL', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      `destination: { type: postgres, url: "${postgres.url}" }\ningest: { tap: events, keys: ["\${env:INGEST_KEY}"] }\n`,
    );
    await pushTenThousand(folder);
    const client = new pg.Client({ connectionString: postgres.base });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids, sum(value_number)::bigint AS total
           FROM "${postgres.prefix}_events".events`,
      );
      expect(rows[0]).toEqual({ rows: 10_000, ids: 10_000, total: '24995000' });
    } finally {
      await client.end();
    }
  }, 180_000);
});
