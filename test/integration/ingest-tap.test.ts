/** The ingest tap: what the endpoint accepted, loaded by `trib run` with the run protocol of every tap. */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStreamer } from '../../lib/push/event-streamer.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { trib } from '../helpers/cli.ts';
import { startTestEndpoint, TEST_ACCESS_KEY, type TestEndpoint } from '../helpers/ingest.ts';
import { queryWarehouse } from '../helpers/warehouse.ts';

const endpoints: TestEndpoint[] = [];
afterEach(async () => {
  for (const endpoint of endpoints.splice(0)) await endpoint.stop().catch(() => {});
});

function pipelineIn(folder: string, settleSeconds: number): void {
  writeFileSync(
    join(folder, 'pipeline.yaml'),
    `destination: { type: duckdb, path: warehouse.duckdb }
stage: { path: stage }
state: { path: state }
ingest: { tap: events }
taps:
  events: { streamer: ingest, config: { settle_seconds: ${settleSeconds} } }
`,
  );
}

async function push(endpoint: TestEndpoint, folder: string, values: number[]): Promise<void> {
  const events = new EventStreamer({
    endpoint: endpoint.url,
    accessKey: TEST_ACCESS_KEY,
    bucketKey: 'lab',
    spoolDir: join(folder, 'spool'),
    handleExit: false,
    logLevel: 'silent',
    backoffBaseMs: 5,
  });
  for (const value of values) events.log('n', value, 1_764_000_000 + value);
  const closed = await events.close(5_000);
  expect(closed.spoolFiles).toBe(0);
}

describe('the ingest tap', () => {
  it('a batch whose answer was lost is sent again and loads once', async () => {
    const folder = temporaryFolder();
    pipelineIn(folder, 0);
    let lost = 0;
    const endpoint = await startTestEndpoint({
      root: join(folder, 'stage'),
      intercept: async (request, serve) => {
        if (!request.path.endsWith('/events') || lost > 0) return undefined;
        lost += 1;
        await serve(request); // stored...
        return { status: 500 }; // ...but the client never hears so
      },
    });
    endpoints.push(endpoint);
    await push(endpoint, folder, [1, 2, 3]);
    expect((await endpoint.events()).length).toBe(6); // the inbox holds the batch twice
    const run = await trib(['run', 'pipeline.yaml'], folder);
    expect(run.code, run.stderr).toBe(0);
    const rows = await queryWarehouse(folder, 'SELECT value_number FROM events.events ORDER BY 1');
    expect(rows).toEqual([{ value_number: 1 }, { value_number: 2 }, { value_number: 3 }]);
  });

  it('reads nothing younger than the settle time, so its bookmark never passes a write still landing', async () => {
    const folder = temporaryFolder();
    pipelineIn(folder, 3_600);
    const endpoint = await startTestEndpoint({ root: join(folder, 'stage') });
    endpoints.push(endpoint);
    await push(endpoint, folder, [1, 2]);
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const [empty] = await queryWarehouse(
      folder,
      "SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_schema = 'events'",
    );
    expect(empty).toEqual({ n: 0 });
    pipelineIn(folder, 0);
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    expect(await queryWarehouse(folder, 'SELECT count(*)::INTEGER AS n FROM events.events')).toEqual([
      { n: 2 },
    ]);
  });

  it('deletes inbox entries only once a staged chunk holds them, at a later run', async () => {
    const folder = temporaryFolder();
    pipelineIn(folder, 0);
    const endpoint = await startTestEndpoint({ root: join(folder, 'stage') });
    endpoints.push(endpoint);
    const inbox = join(folder, 'stage', 'inbox', 'events');
    await push(endpoint, folder, [1]);
    expect(readdirSync(inbox).filter((name) => name.endsWith('.jsonl'))).toHaveLength(1);
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    // Still there: it is deleted when a run starts from a bookmark past it.
    expect(readdirSync(inbox).filter((name) => name.endsWith('.jsonl'))).toHaveLength(1);
    await push(endpoint, folder, [2]);
    const second = await trib(['run', 'pipeline.yaml'], folder);
    expect(second.stderr).toMatch(/removed 1 inbox entry already staged/);
    expect(readdirSync(inbox).filter((name) => name.endsWith('.jsonl'))).toHaveLength(1);
    expect(await queryWarehouse(folder, 'SELECT value_number FROM events.events ORDER BY 1')).toEqual([
      { value_number: 1 },
      { value_number: 2 },
    ]);
    const status = await trib(['status', 'pipeline.yaml'], folder);
    expect(status.stdout).toMatch(/events/);
  });

  it('the pipeline file says what is wrong with an ingest section', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\ntaps:\n  pushed: { streamer: ingest }\n',
    );
    const stray = await trib(['run', 'pipeline.yaml'], folder);
    expect(stray.stderr).toMatch(
      /taps\.pushed\.streamer: ingest reads what the push endpoint accepts, and this file has no ingest: section/,
    );
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\ningest: { tap: shop }\ntaps:\n  shop: { streamer: sample }\n',
    );
    expect((await trib(['run', 'pipeline.yaml'], folder)).stderr).toMatch(
      /ingest\.tap: received "shop", a tap whose streamer is not ingest/,
    );
    writeFileSync(join(folder, 'pipeline.yaml'), 'destination: { type: duckdb, path: w.duckdb }\n');
    expect((await trib(['run', 'pipeline.yaml'], folder)).stderr).toMatch(/taps: none given/);
  });
});
