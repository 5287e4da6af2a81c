/**
 * The local pipeline end to end (sample streamer → folder stage → persister → DuckDB → state file),
 * with crashes injected at each step where one could lose or duplicate data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseChunkKey } from '../../lib/chunks/chunk-key.ts';
import { readChunk } from '../../lib/chunks/read-chunk.ts';
import { loadChunks } from '../../lib/persister/load-chunks.ts';
import { FaultyDestination } from '../../lib/testing/faulty-destination.ts';
import { FaultyStateStore } from '../../lib/testing/faulty-state-store.ts';
import { localPipeline, sampleTap } from '../helpers/local-pipeline.ts';

const opened: { warehouse: { close(): Promise<void> } }[] = [];
afterEach(async () => {
  for (const pipeline of opened.splice(0)) await pipeline.warehouse.close();
});
async function setUp() {
  const pipeline = await localPipeline();
  opened.push(pipeline);
  return pipeline;
}

/**
 * Asserts the warehouse holds exactly what clean runs hold at the pipeline's committed bookmark.
 * The sample's bookmark is per stream (a failed run can leave customers a tick ahead of orders),
 * so each stream is compared with a clean pipeline run to that stream's tick.
 */
async function expectSameAsCleanRuns(pipeline: Awaited<ReturnType<typeof setUp>>) {
  const bookmark = (await pipeline.stateStore.read('sample')).committed?.bookmark as {
    bookmarks: Record<string, { partitions: Record<string, { tick: number; after_id?: number }> }>;
  };
  for (const stream of ['customers', 'orders']) {
    const position = bookmark.bookmarks[stream]?.partitions[''];
    expect(position?.after_id).toBeUndefined(); // the recovered run finished its tick
    const clean = await setUp();
    for (let run = 0; run <= (position?.tick ?? -1); run += 1) await clean.run(sampleTap());
    expect(await pipeline.contents(stream)).toEqual(await clean.contents(stream));
  }
}

describe('local pipeline', () => {
  it('loads a first run, then only new and changed records, with nothing duplicated', async () => {
    const pipeline = await setUp();
    const first = await pipeline.run(sampleTap());
    expect(first.status).toBe('succeeded');
    expect(first.streams.get('customers')).toMatchObject({ recordsRead: 2_000, inserted: 2_000, updated: 0 });
    expect(first.chunksStaged).toBe(first.chunksLoaded);
    expect(first.chunksStaged).toBeGreaterThan(3);
    const second = await pipeline.run(sampleTap());
    const customers = second.streams.get('customers');
    expect(customers?.inserted).toBe(20); // new_customers_per_run
    expect(customers?.updated).toBeGreaterThan(0);
    expect(customers?.recordsRead).toBe((customers?.inserted ?? 0) + (customers?.updated ?? 0));
    expect(second.bookmarkBefore).toEqual(first.bookmarkAfter);
    expect(await pipeline.count('SELECT count(*) AS n FROM sample.customers')).toBe(2_020);
    expect(await pipeline.count('SELECT count(*) - count(DISTINCT id) AS n FROM sample.orders')).toBe(0);
    const state = await pipeline.stateStore.read('sample');
    expect(state.committed).toMatchObject({ run: second.run });
    expect(state.staged).toEqual({ ...state.staged, run: state.committed?.run, seq: state.committed?.seq });
    expect(state.lease).toBeUndefined();
    expect(state.lastRun).toMatchObject({
      status: 'succeeded',
      records: (customers?.recordsRead ?? 0) + (second.streams.get('orders')?.recordsRead ?? 0),
    });
  });

  it('a crash between load and commit: the run fails, the bookmark stays, and the next run loads everything once', async () => {
    const pipeline = await setUp();
    const faulty = new FaultyDestination(pipeline.warehouse);
    faulty.failNext('before-commit');
    const failed = await pipeline.run(sampleTap(), { destination: faulty });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/injected fault: crash before COMMIT/);
    const afterFailure = await pipeline.stateStore.read('sample');
    expect(afterFailure.committed).toBeUndefined();
    expect(afterFailure.staged).toBeDefined(); // the chunk waits in the stage
    const recovered = await pipeline.run(sampleTap());
    expect(recovered.status).toBe('succeeded');
    expect(recovered.chunksCaughtUp).toBeGreaterThan(0);
    await expectSameAsCleanRuns(pipeline);
  });

  it('a crash after commit, before the bookmark write: the next run skips the chunk and moves the bookmark', async () => {
    const pipeline = await setUp();
    const faultyState = new FaultyStateStore(pipeline.stateStore);
    faultyState.failNextCommittedWrites(1);
    const failed = await pipeline.run(sampleTap(), { stateStore: faultyState });
    expect(failed.status).toBe('failed');
    expect(await pipeline.warehouse.ledger('sample')).toHaveLength(1); // committed, but no bookmark
    expect((await pipeline.stateStore.read('sample')).committed).toBeUndefined();
    const recovered = await pipeline.run(sampleTap());
    expect(recovered.status).toBe('succeeded');
    await expectSameAsCleanRuns(pipeline);
  });

  it('a crash after staging a chunk, before recording it: nothing is lost or loaded twice', async () => {
    const pipeline = await setUp();
    const faultyState = new FaultyStateStore(pipeline.stateStore);
    faultyState.failNextStagedWrites(1);
    expect((await pipeline.run(sampleTap(), { stateStore: faultyState })).status).toBe('failed');
    expect((await pipeline.run(sampleTap())).status).toBe('succeeded');
    await expectSameAsCleanRuns(pipeline);
  });

  it('duplicate delivery of every chunk loads nothing and never moves the bookmark back', async () => {
    const pipeline = await setUp();
    await pipeline.run(sampleTap());
    await pipeline.run(sampleTap());
    const before = await pipeline.stateStore.read('sample');
    const contents = await pipeline.contents('customers');
    const keys = await pipeline.stage.list('stage/sample/');
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) {
      const ref = parseChunkKey(key);
      const metadata = await pipeline.stage.metadata(key);
      const [outcome] = await loadChunks(
        'sample',
        [
          {
            ...ref,
            previous: metadata?.previous ?? null,
            source: key,
            messages: () => readChunk(pipeline.stage, key),
          },
        ],
        {
          destination: pipeline.warehouse,
          stateStore: pipeline.stateStore,
        },
      );
      expect(outcome).toMatchObject({ status: 'skipped', bookmarkMoved: false });
    }
    expect(await pipeline.contents('customers')).toEqual(contents);
    expect((await pipeline.stateStore.read('sample')).committed).toEqual(before.committed);
  });

  it('a streamer that fails keeps the bookmark and says why', async () => {
    const pipeline = await setUp();
    await pipeline.run(sampleTap());
    const committed = (await pipeline.stateStore.read('sample')).committed;
    const failed = await pipeline.run(sampleTap({ change_rate: 2 }));
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(
      /streamer sample failed: invalid config\n {2}config: change_rate: received 2; must be <= 1/,
    );
    // Only what is true is said: this run staged nothing, so it promises no chunks.
    expect(failed.error).toMatch(/Nothing was staged, and the bookmark is where it was\.$/);
    expect(failed.error).not.toMatch(/Chunks staged/);
    expect((await pipeline.stateStore.read('sample')).committed).toEqual(committed);
  });

  it('two overlapping runs of one tap: the second sees the lease and does nothing', async () => {
    const pipeline = await setUp();
    const [a, b] = await Promise.all([pipeline.run(sampleTap()), pipeline.run(sampleTap())]);
    expect([a.status, b.status].sort()).toEqual(['skipped', 'succeeded']);
    expect([a, b].find((report) => report.status === 'skipped')?.error).toMatch(
      /another run holds the lease of tap sample/,
    );
    expect(await pipeline.count('SELECT count(*) AS n FROM sample.customers')).toBe(2_000);
  });
});
