/**
 * persist-stitch and the Stitch destination against a fake Import API written from the reference:
 * batches under the byte and record limits, a 413 split, 5xx retried, a 400 that stops with Stitch's
 * answer, sequences that only grow across runs, and replays that send nothing again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StitchDestination } from '../../lib/destinations/stitch/stitch-destination.ts';
import { loadChunks } from '../../lib/persister/load-chunks.ts';
import { StitchImportApi } from '../fakes/stitch-import-api.ts';
import { chunkOf, record, schema, state, temporaryFolder } from '../helpers/chunks.ts';
import { shell, trib } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/paths.ts';

let api: StitchImportApi;
beforeEach(async () => {
  api = await new StitchImportApi().start();
});
afterEach(async () => {
  delete process.env.STITCH_TOKEN;
  await api.stop();
});

const TOKEN = 'at_stitch_token_1';
const persistStitch = join(repoRoot, 'bin', 'persist-stitch.js');
const stitchEnv = () => ({ STITCH_TOKEN: TOKEN, STITCH_CLIENT_ID: '48112', STITCH_API_URL: api.baseUrl });
const sequences = (table: string) => (api.tables.get(`48112.${table}`) ?? []).map((row) => row.sequence);

function destination(folder: string, limits: { maxBatchBytes?: number; maxBatchRecords?: number } = {}) {
  return new StitchDestination({
    token: TOKEN,
    clientId: '48112',
    baseUrl: api.baseUrl,
    ledgerPath: join(folder, 'delivered'),
    http: { sleep: async () => {}, backoffBaseMs: 1 },
    ...limits,
  });
}

const people = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) =>
    record('people', { id: from + index, name: `person ${from + index}` }),
  );

describe('Stitch Import API', () => {
  it('persist-stitch reads a streamer on stdin, prints each accepted bookmark, and upserts by key', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'c.json'), '{"customers": 300, "orders": 500}');
    const result = await shell(
      `"$TRIB" tap sample --config c.json | node ${persistStitch} | tail -1 > state.json`,
      folder,
      stitchEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/persist-stitch: 800 records in 1 commit into Stitch Import API/);
    expect(api.rows('48112.customers')).toHaveLength(300);
    expect(api.rows('48112.orders')).toHaveLength(500);
    const bookmark = JSON.parse(readFileSync(join(folder, 'state.json'), 'utf8'));
    expect(bookmark).toHaveProperty('bookmarks.customers');
    // The seed's way: persist-stitch runs the streamer itself, with the bookmark file; only changes follow.
    const before = sequences('customers');
    const second = await shell(
      `node ${persistStitch} "$TRIB" tap sample --config c.json --state state.json | tail -1 > state2.json`,
      folder,
      stitchEnv(),
    );
    expect(second.code, second.stderr).toBe(0);
    expect(api.rows('48112.customers')).toHaveLength(320); // 20 new, the changed ones replaced
    const after = sequences('customers');
    expect(Math.min(...after.filter((sequence) => !before.includes(sequence)).map(Number))).toBeGreaterThan(
      Math.max(...before.map(Number)),
    );
  });

  it('persist-stitch whose reader has gone ends quietly, as SIGPIPE ends a program (128 + 13), after Stitch took the batch', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'c.json'), '{"customers": 30, "orders": 0}');
    // `head -c 0` exits before anything is printed: the first bookmark written meets a closed pipe.
    const result = await shell(
      `set -o pipefail; "$TRIB" tap sample --config c.json | node ${persistStitch} | head -c 0`,
      folder,
      stitchEnv(),
    );
    expect(result.code).toBe(141);
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
    expect(api.rows('48112.customers')).toHaveLength(30); // accepted before the bookmark was printed
  });

  it('batches stay under the record and byte limits; a 413 is split; a 503 is retried; nothing is lost or sent twice', async () => {
    const folder = temporaryFolder();
    const target = destination(folder, { maxBatchRecords: 100, maxBatchBytes: 6_000 });
    api.faults.push({ status: 503 });
    api.maxBytes = 4_000; // smaller than our own limit: Stitch answers 413 and the batch is halved
    const [outcome] = await loadChunks(
      't',
      [
        chunkOf('t', 'r1', 0, [
          schema('people', { id: { type: 'integer' }, name: { type: 'string' } }, ['id']),
          ...people(1, 250),
          state(1),
        ]),
      ],
      { destination: target },
    );
    expect(outcome).toMatchObject({ status: 'loaded', records: 250 });
    expect(api.rows('48112.people')).toHaveLength(250);
    expect(Math.max(...api.batches.map((batch) => batch.records))).toBeLessThanOrEqual(100);
    expect(Math.max(...api.batches.map((batch) => batch.bytes))).toBeLessThanOrEqual(4_000);
    expect(api.batches.reduce((sum, batch) => sum + batch.records, 0)).toBe(250);
    // The same chunk again (a replay, a redelivery): in the delivery ledger, so nothing is sent.
    const sent = api.batches.length;
    const [again] = await loadChunks(
      't',
      [chunkOf('t', 'r1', 0, [schema('people', { id: { type: 'integer' } }, ['id']), state(1)])],
      {
        destination: target,
      },
    );
    expect(again?.status).toBe('skipped');
    expect(api.batches.length).toBe(sent);
  });

  it("an unkeyed stream is appended; a 400 stops the load with Stitch's answer and records nothing as delivered", async () => {
    const folder = temporaryFolder();
    const target = destination(folder);
    const events = (n: number) =>
      Array.from({ length: n }, (_, index) => record('events', { kind: `k${index}` }));
    await loadChunks(
      'u',
      [chunkOf('u', 'r1', 0, [schema('events', { kind: { type: 'string' } }, []), ...events(3), state(1)])],
      {
        destination: target,
      },
    );
    expect(api.rows('48112.events')).toHaveLength(3);
    api.faults.push({
      status: 400,
      body: { error: 'Record 0 did not conform to schema: #/kind: expected type: Integer, found: String' },
    });
    const failed = await loadChunks(
      'u',
      [chunkOf('u', 'r1', 1, [schema('events', { kind: { type: 'string' } }, []), ...events(2), state(2)])],
      {
        destination: target,
      },
    ).catch((error: unknown) => error as Error);
    expect((failed as Error).message).toMatch(
      /Stitch refused a batch of 2 records with HTTP 400: .*did not conform to schema/,
    );
    const ledger = await target.ledger('u');
    expect(ledger).toMatchObject([{ run: 'r1', seq: 0 }]);
    // Fixed at the source, the chunk goes again, once.
    await loadChunks(
      'u',
      [chunkOf('u', 'r1', 1, [schema('events', { kind: { type: 'string' } }, []), ...events(2), state(2)])],
      {
        destination: target,
      },
    );
    expect(api.rows('48112.events')).toHaveLength(5);
  });

  it('a pipeline with destination type stitch: runs deliver each chunk once, a replay sends nothing, sequences only grow', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      `
destination: { type: stitch, token: "\${env:STITCH_TOKEN}", client_id: 48112, base_url: "${api.baseUrl}" }
taps:
  sample:
    streamer: sample
    config: { customers: 200, orders: 0, state_every: 100 }
    chunk: { max_records: 100 }
`,
    );
    process.env.STITCH_TOKEN = TOKEN;
    const first = await trib(['run', 'pipeline.yaml'], folder);
    expect(first.code, first.stderr).toBe(0);
    expect(api.rows('48112.customers')).toHaveLength(200);
    const sent = api.batches.length;
    const state = JSON.parse(readFileSync(join(folder, '.tributary', 'state', 'sample.json'), 'utf8'));
    const chunk = join(folder, '.tributary', 'stage', 'sample', state.committed.run, '000000.jsonl.gz');
    const replay = await trib(['replay', chunk, '--pipeline', 'pipeline.yaml'], folder);
    expect(replay.stdout).toMatch(/already loaded \(in the ledger\); nothing loaded again/);
    expect(api.batches.length).toBe(sent);
    const before = Math.max(...sequences('customers').map(Number));
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    expect(api.rows('48112.customers')).toHaveLength(220);
    const fresh = sequences('customers').filter((sequence) => Number(sequence) > before);
    expect(fresh.length).toBeGreaterThanOrEqual(20);
  });

  it('a wrong token is refused naming what to check; a missing STITCH_TOKEN is named before anything runs', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'in.jsonl'),
      `${JSON.stringify(schema('t', { id: { type: 'integer' } }, ['id']))}\n${JSON.stringify(record('t', { id: 1 }))}\n${JSON.stringify(state(1))}\n`,
    );
    const wrong = await shell(`node ${persistStitch} < in.jsonl`, folder, {
      ...stitchEnv(),
      STITCH_TOKEN: 'at_wrong',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /HTTP 401: \{"message":"Not Authorized"\}\. Check the token, its region \(base URL\)/,
    );
    expect(wrong.stderr).not.toMatch(/at_wrong/);
    const missing = await shell(`node ${persistStitch} < in.jsonl`, folder, {
      STITCH_TOKEN: '',
      STITCH_CLIENT_ID: '',
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/STITCH_TOKEN and STITCH_CLIENT_ID are not set/);
  });
});
