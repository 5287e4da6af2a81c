/**
 * What a tap costs in AWS requests, counted on the emulators: the real handlers stage and load the
 * sample tap in 5,000-record chunks while the real SDK clients record every call. The counts per
 * chunk and per run are asserted: they are what the README's cost table multiplies. Handler
 * durations are reported, never asserted; with TRIB_COST_OUT set, counts and durations are written
 * there as JSON for `npm run bench` (bench/aws-cost.ts).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { createPersisterHandler } from '../../functions/persister/handler.ts';
import { createStreamerHandler } from '../../functions/streamer/handler.ts';
import type { AwsRuntime } from '../../lib/aws/runtime.ts';
import type { DuckDbDestination } from '../../lib/destinations/duckdb/duckdb-destination.ts';
import { createAwsRuntime, lambdaContext, serverlessResources, sqsEvent } from '../helpers/aws.ts';
import { type RecordedSdkCall, recordInto } from '../helpers/aws-calls.ts';

const CHUNK_RECORDS = 5_000;
const opened: AwsRuntime[] = [];
afterAll(async () => {
  for (const runtime of opened) await (await runtime.destination()).close();
});

/** Calls by `Client:Command`, e.g. `S3:PutObject`. */
function tally(calls: readonly RecordedSdkCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    const name = `${call.client.replace(/Client$/, '')}:${call.command}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

async function syncOnce(customers: number) {
  const streamerCalls: RecordedSdkCall[] = [];
  const persisterCalls: RecordedSdkCall[] = [];
  const resources = await serverlessResources(
    (folder) => `
destination: { type: duckdb, path: ${join(folder, 'warehouse.duckdb')} }
taps:
  sample:
    streamer: sample
    schedule: rate(1 hour)
    config: { customers: ${customers}, orders: 0, state_every: ${CHUNK_RECORDS} }
    streams: [customers]
    chunk: { max_records: ${CHUNK_RECORDS} }
`,
  );
  const streamerRuntime = await createAwsRuntime({ ...resources, onClient: recordInto(streamerCalls) });
  const persisterRuntime = await createAwsRuntime({
    ...resources,
    role: { kind: 'persister' },
    onClient: recordInto(persisterCalls),
  });
  opened.push(persisterRuntime);
  const streamer = createStreamerHandler(async () => streamerRuntime);
  const persister = createPersisterHandler(async () => persisterRuntime);
  const plenty = lambdaContext(() => 600_000);

  const streamerStarted = performance.now();
  const result = await streamer({ tap: 'sample' }, plenty);
  const streamerMs = performance.now() - streamerStarted;
  expect(result).toMatchObject({ status: 'finished', records: customers });

  // Lambda's SQS event source, one batch of up to 10 at a time; its own calls are counted apart.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  let persisterMs = 0;
  let batches = 0;
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, MaxNumberOfMessages: 10 }),
    );
    const messages = (received.Messages ?? []).map((m) => ({
      receipt: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
    }));
    if (messages.length === 0) break;
    batches += 1;
    const started = performance.now();
    const loaded = await persister(sqsEvent(messages), plenty);
    persisterMs += performance.now() - started;
    expect(loaded.batchItemFailures).toEqual([]);
    for (const message of messages)
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: resources.queueUrl, ReceiptHandle: message.receipt }),
      );
  }
  const warehouse = (await persisterRuntime.destination()) as DuckDbDestination;
  const rows = await warehouse.query('SELECT count(*) AS n FROM sample.customers');
  expect(Number(rows[0]?.n)).toBe(customers);
  return {
    chunks: result.chunks as number,
    batches,
    streamer: tally(streamerCalls),
    persister: tally(persisterCalls),
    streamerMs,
    persisterMs,
  };
}

describe('AWS requests per chunk and per run, counted on the emulators', () => {
  it('a run costs a fixed number of requests plus a fixed number per chunk, whatever its size', async () => {
    const small = await syncOnce(4 * CHUNK_RECORDS);
    const large = await syncOnce(8 * CHUNK_RECORDS);
    expect(small.chunks).toBe(4);
    expect(large.chunks).toBe(8);
    // Per chunk: the difference between the runs, divided by the extra chunks; per run: what is left.
    const perChunk: Record<string, number> = {};
    const perRun: Record<string, number> = {};
    for (const side of ['streamer', 'persister'] as const) {
      const names = new Set([...Object.keys(small[side]), ...Object.keys(large[side])]);
      for (const name of names) {
        const a = small[side][name] ?? 0;
        const b = large[side][name] ?? 0;
        const chunkShare = (b - a) / (large.chunks - small.chunks);
        perChunk[`${side} ${name}`] = chunkShare;
        perRun[`${side} ${name}`] = a - chunkShare * small.chunks;
      }
    }
    // What a chunk costs: staged once, sent once, read once and tagged once; its bookmark written once
    // by the streamer (the staged position) and once by the persister (committed).
    expect(perChunk).toMatchObject({
      'streamer S3:PutObject': 1,
      'streamer SQS:SendMessage': 1,
      'persister S3:GetObject': 1,
      'persister S3:PutObjectTagging': 1,
    });
    const dynamoPerChunk = Object.entries(perChunk)
      .filter(([name]) => name.includes('DynamoDB'))
      .reduce((sum, [, count]) => sum + count, 0);
    expect(dynamoPerChunk).toBeGreaterThan(0);
    expect(dynamoPerChunk).toBeLessThanOrEqual(4);
    for (const [name, count] of Object.entries(perChunk))
      expect(Number.isInteger(count), `${name}: ${count} a chunk`).toBe(true);
    for (const [name, count] of Object.entries(perRun))
      expect(count, `${name}: ${count} a run`).toBeGreaterThanOrEqual(0);
    const measured = {
      chunkRecords: CHUNK_RECORDS,
      perChunk,
      perRun,
      sqsEventSource: { batchesPerChunk: large.batches / large.chunks },
      durations: {
        streamerMsPerChunk: large.streamerMs / large.chunks,
        persisterMsPerChunk: large.persisterMs / large.chunks,
      },
    };
    process.stderr.write(`AWS requests: ${JSON.stringify(measured)}\n`);
    if (process.env.TRIB_COST_OUT !== undefined)
      writeFileSync(process.env.TRIB_COST_OUT, JSON.stringify(measured, null, 2));
  });
});
