/**
 * The serverless runtime end to end against local AWS emulators (s3rver, fauxqs, dynalite) with the
 * real SDK clients and the real handlers: schedule event → streamer → S3 + SQS → persister → DuckDB,
 * bookmarks in DynamoDB; and the faults: a tiny time budget, duplicate delivery, crashes, an S3
 * error, conditional-check failures, overlapping events.
 */

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { createPersisterHandler } from '../../functions/persister/handler.ts';
import { createStreamerHandler } from '../../functions/streamer/handler.ts';
import { RUN_SUCCEEDED_METRIC } from '../../lib/aws/run-metric.ts';
import type { AwsRuntime } from '../../lib/aws/runtime.ts';
import type { DuckDbDestination } from '../../lib/destinations/duckdb/duckdb-destination.ts';
import type { StreamerEvent } from '../../lib/pipeline/streamer-invocation.ts';
import { FaultyStage } from '../../lib/testing/faulty-stage.ts';
import { FaultyStateStore } from '../../lib/testing/faulty-state-store.ts';
import { GithubApi } from '../fakes/github-api.ts';
import { createAwsRuntime, lambdaContext, serverlessResources, sqsEvent } from '../helpers/aws.ts';
import { shell } from '../helpers/cli.ts';

const pipelineYaml = (customers: number) => (folder: string) =>
  `
destination: { type: duckdb, path: ${join(folder, 'warehouse.duckdb')} }
taps:
  sample:
    streamer: sample
    schedule: rate(1 hour)
    config: { customers: ${customers}, orders: ${customers}, state_every: 500 }
    chunk: { max_records: 1000 }
`;

const opened: AwsRuntime[] = [];
afterAll(async () => {
  for (const runtime of opened) await (await runtime.destination()).close();
});

async function setUp(customers = 3_000, yaml: (folder: string) => string = pipelineYaml(customers)) {
  const settings = await serverlessResources(yaml);
  const runtime = await createAwsRuntime(settings);
  opened.push(runtime);
  const continuations: StreamerEvent[] = [];
  runtime.invoker.continueWith = async (event) => {
    continuations.push(event);
  };
  const withOverrides = (overrides: Partial<AwsRuntime>) =>
    createStreamerHandler(async () => ({ ...runtime, ...overrides }));
  const streamer = withOverrides({});
  const persister = createPersisterHandler(async () => runtime);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  /** Lambda's SQS event source: receive, invoke, delete what succeeded, make the rest visible again. */
  const drain = async (handler = persister, rounds = 50): Promise<number> => {
    let delivered = 0;
    for (let round = 0; round < rounds; round += 1) {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: settings.queueUrl, MaxNumberOfMessages: 10 }),
      );
      const messages = (received.Messages ?? []).map((m) => ({
        receipt: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
      }));
      if (messages.length === 0) return delivered;
      delivered += messages.length;
      const event = sqsEvent(messages);
      const result = await handler(
        event,
        lambdaContext(() => 60_000),
      );
      const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
      for (const record of event.Records) {
        if (failed.has(record.messageId)) {
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: settings.queueUrl,
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: 0,
            }),
          );
        } else {
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: settings.queueUrl, ReceiptHandle: record.receiptHandle }),
          );
        }
      }
    }
    return delivered;
  };
  const warehouse = async () => (await runtime.destination()) as DuckDbDestination;
  const count = async (sql: string) => Number((await (await warehouse()).query(sql))[0]?.n);
  return { settings, runtime, streamer, persister, withOverrides, continuations, drain, warehouse, count };
}

const schedule = (tap = 'sample'): StreamerEvent => ({ tap });
const plenty = lambdaContext(() => 600_000);

describe('serverless runtime against local AWS emulators', () => {
  it('a schedule event stages chunks in S3 and SQS; the persister loads them; the next event syncs only new data', async () => {
    const env = await setUp();
    const result = await env.streamer(schedule(), plenty);
    expect(result).toMatchObject({ status: 'finished', records: 6_000 });
    const keys = await env.runtime.stage.list('stage/sample/');
    expect(keys.length).toBe(result.chunks);
    expect(keys.length).toBeGreaterThan(5);
    expect(await env.runtime.stage.metadata(keys[0] ?? '')).toMatchObject({ tap: 'sample', seq: 0 });
    expect(await env.drain()).toBe(keys.length);
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(3_000);
    const state = await env.runtime.stateStore.read('sample');
    expect(state.committed).toMatchObject({ run: result.run, seq: keys.length - 1 });
    expect(state.lease).toBeUndefined();
    const second = await env.streamer(schedule(), plenty);
    expect(second.records).toBeGreaterThan(20);
    expect(second.records).toBeLessThan(400);
    await env.drain();
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(3_020);
    expect(await env.count('SELECT count(*) - count(DISTINCT id) AS n FROM sample.orders')).toBe(0);
  });

  it('a tap with steps gives in Lambda (across continuations) the same rows as trib run', async () => {
    const steps = `    transforms:
      - { use: hash, fields: [email], key: "a-static-test-hash-key" }
      - { use: drop, fields: [address.street], streams: [customers] }
      - { use: flatten, streams: [customers] }
      - { use: cast, fields: { lifetime_value: string }, streams: [customers] }
      - { use: validate, on_invalid: quarantine }
      - { use: filter, where: "status != 'refunded'", streams: [orders] }
`;
    const yaml = (folder: string) => `${pipelineYaml(600)(folder)}${steps}`;
    const env = await setUp(600, yaml);
    // A 1 ms budget: every invocation hands off after its first STATE, so each continuation makes the
    // steps again.
    let result = await env.streamer(
      schedule(),
      lambdaContext(() => 60_001),
    );
    let invocations = 1;
    for (let guard = 0; result.status === 'continued' && guard < 200; guard += 1) {
      invocations += 1;
      const next = env.continuations.shift();
      if (next === undefined) break;
      result = await env.streamer(
        next,
        lambdaContext(() => 60_001),
      );
    }
    expect(result.status).toBe('finished');
    expect(invocations).toBeGreaterThan(1);
    await env.drain();
    const lambdaRows = await (await env.warehouse()).query(
      'SELECT id, email, address__city, lifetime_value FROM sample.customers ORDER BY id',
    );
    const lambdaOrders = await env.count(
      "SELECT count(*) AS n FROM sample.orders WHERE status <> 'refunded'",
    );
    expect(await env.count("SELECT count(*) AS n FROM sample.orders WHERE status = 'refunded'")).toBe(0);
    const local = join(env.settings.folder, 'local');
    await shell(`mkdir -p ${local}`, env.settings.folder);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(local, 'pipeline.yaml'), yaml(local));
    const run = await shell('"$TRIB" run pipeline.yaml', local);
    expect(run.code, run.stderr).toBe(0);
    const { DuckDbDestination } = await import('../../lib/destinations/duckdb/duckdb-destination.ts');
    const warehouse = await DuckDbDestination.open(join(local, 'warehouse.duckdb'));
    try {
      expect(
        await warehouse.query(
          'SELECT id, email, address__city, lifetime_value FROM sample.customers ORDER BY id',
        ),
      ).toEqual(lambdaRows);
      const [orders] = await warehouse.query('SELECT count(*) AS n FROM sample.orders');
      expect(Number(orders?.n)).toBe(lambdaOrders);
    } finally {
      await warehouse.close();
    }
    expect(lambdaRows).toHaveLength(600);
    expect(String(lambdaRows[0]?.email)).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof lambdaRows[0]?.lifetime_value).toBe('string');
  });

  it('a finished run emits the RunSucceeded metric (embedded in a log line) that the no-success alarm watches; a continued one does not', async () => {
    const env = await setUp(2_000);
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const handedOff = await env.streamer(
        schedule(),
        lambdaContext(() => 60_050),
      );
      expect(handedOff.status).toBe('continued');
      const metricLines = () => lines.filter((line) => line.includes(RUN_SUCCEEDED_METRIC.name));
      expect(metricLines()).toEqual([]);
      const finished = await env.streamer(schedule(), plenty); // the lease is held: skipped, no metric
      expect(finished.status).toBe('skipped');
      for (const event of env.continuations.splice(0)) await env.streamer(event, plenty);
      const [line] = metricLines();
      const emf = JSON.parse(line ?? '{}');
      expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: RUN_SUCCEEDED_METRIC.namespace,
        Dimensions: [expect.arrayContaining(['service', RUN_SUCCEEDED_METRIC.tapDimension])],
      });
      expect(emf).toMatchObject({
        [RUN_SUCCEEDED_METRIC.name]: 1,
        Tap: 'sample',
        service: RUN_SUCCEEDED_METRIC.service,
      });
    } finally {
      process.stdout.write = write;
    }
  });

  it('a tiny time budget spreads one run over several invocations and loads exactly what one long run would', async () => {
    const reference = await setUp(6_000);
    await reference.streamer(schedule(), plenty);
    await reference.drain();
    const env = await setUp(6_000);
    let invocations = 0;
    // 60 s margin: about 40 ms of work each, so even a fast machine needs several invocations
    const tight = () => lambdaContext(() => 60_000 + 40);
    let event: StreamerEvent | undefined = schedule();
    while (event !== undefined) {
      invocations += 1;
      const result: { status: string } = await env.streamer(event, tight());
      event = result.status === 'continued' ? env.continuations.shift() : undefined;
      await env.drain();
    }
    expect(invocations).toBeGreaterThan(2);
    const runs = new Set((await env.runtime.stage.list('stage/sample/')).map((key) => key.split('/')[2]));
    expect(runs.size).toBe(1); // one run, continued
    const rows = (w: DuckDbDestination) =>
      w.query('SELECT id, CAST(updated_at AS VARCHAR) AS u FROM sample.customers ORDER BY id');
    expect(await rows(await env.warehouse())).toEqual(await rows(await reference.warehouse()));
    expect((await env.runtime.stateStore.read('sample')).lease).toBeUndefined();
  });

  it('duplicate SQS delivery loads nothing twice', async () => {
    const env = await setUp(1_000);
    await env.streamer(schedule(), plenty);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.settings.queueUrl, MaxNumberOfMessages: 1 }),
    );
    const message = {
      receipt: received.Messages?.[0]?.ReceiptHandle ?? '',
      body: received.Messages?.[0]?.Body ?? '',
    };
    const first = await env.persister(sqsEvent([message]), plenty);
    const again = await env.persister(sqsEvent([message, message]), plenty);
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    expect(await env.count('SELECT count(*) AS n FROM main._tributary_chunks')).toBe(1);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: env.settings.queueUrl, ReceiptHandle: message.receipt }),
    );
    await env.drain();
    expect(await env.count('SELECT count(*) - count(DISTINCT id) AS n FROM sample.customers')).toBe(0);
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(1_000);
  });

  it('a persister crash after commit, before the bookmark write: the redelivery skips the chunk and moves the bookmark', async () => {
    const env = await setUp(1_000);
    await env.streamer(schedule(), plenty);
    const faulty = new FaultyStateStore(env.runtime.stateStore);
    faulty.failNextCommittedWrites(1);
    const crashing = createPersisterHandler(async () => ({ ...env.runtime, stateStore: faulty }));
    await env.drain(crashing, 1); // one batch: the first chunk commits, its bookmark write fails, the rest wait behind it
    expect((await env.runtime.stateStore.read('sample')).committed).toBeUndefined();
    await env.drain();
    const state = await env.runtime.stateStore.read('sample');
    expect(state.committed?.seq).toBe(state.staged?.seq);
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(1_000);
    expect(await env.count('SELECT count(*) - count(DISTINCT id) AS n FROM sample.orders')).toBe(0);
  });

  it('an S3 error on put fails the run, keeps the bookmark and releases the lease; the next event loads everything once', async () => {
    const env = await setUp(2_000);
    const stage = new FaultyStage(env.runtime.stage);
    stage.failNextPuts(1, 2);
    const failing = env.withOverrides({ stage });
    await expect(failing(schedule(), plenty)).rejects.toThrow(
      /tap sample, run .*: .*injected fault: the stage refused .* The 2 chunks staged before the failure are kept/,
    );
    const afterFailure = await env.runtime.stateStore.read('sample');
    expect(afterFailure.lease).toBeUndefined();
    expect(afterFailure.staged?.seq).toBe(1);
    expect(afterFailure.lastRun).toMatchObject({ status: 'failed' });
    await env.drain();
    await env.streamer(schedule(), plenty);
    await env.drain();
    // sample's bookmarks are per stream: customers may have finished tick 0 before the failure and moved
    // on to tick 1 (20 new customers) in the next run
    const bookmark = (await env.runtime.stateStore.read('sample')).committed?.bookmark as {
      bookmarks: { customers: { partitions: Record<string, { tick: number }> } };
    };
    const tick = bookmark.bookmarks.customers.partitions['']?.tick ?? 0;
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(2_000 + 20 * tick);
    expect(await env.count('SELECT count(*) - count(DISTINCT id) AS n FROM sample.customers')).toBe(0);
  });

  it('conditional-check failures: a replayed old chunk never moves the bookmark back', async () => {
    const env = await setUp(1_000);
    await env.streamer(schedule(), plenty);
    await env.drain();
    const before = await env.runtime.stateStore.read('sample');
    const first = (await env.runtime.stage.list('stage/sample/'))[0] ?? '';
    const metadata = await env.runtime.stage.metadata(first);
    expect(
      await env.runtime.stateStore.markCommitted('sample', {
        run: metadata?.run ?? '',
        seq: 0,
        bookmark: 'old',
        at: 'x',
      }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/is not after the committed chunk/) });
    const replay = await env.persister(
      sqsEvent([{ receipt: 'r', body: JSON.stringify({ ...metadata, key: first }) }]),
      plenty,
    );
    expect(replay.batchItemFailures).toEqual([]);
    expect((await env.runtime.stateStore.read('sample')).committed).toEqual(before.committed);
  });

  it('a chunk that cannot load blocks only its tap: it and every later message of the tap are reported failed', async () => {
    const env = await setUp(1_000);
    await env.streamer(schedule(), plenty);
    const keys = await env.runtime.stage.list('stage/sample/');
    const message = async (key: string) =>
      JSON.stringify({ ...(await env.runtime.stage.metadata(key)), key });
    const result = await env.persister(
      sqsEvent([
        { receipt: 'a', body: await message(keys[1] ?? '') },
        { receipt: 'b', body: await message(keys[2] ?? '') },
        { receipt: 'c', body: 'not json' },
      ]),
      plenty,
    );
    expect(result.batchItemFailures).toHaveLength(3); // seq 1 waits for seq 0 (gap), seq 2 behind it, and the bad message
  });

  it('waiting chunks of one tap load in one transaction; after a failing chunk, those before it still load', async () => {
    const env = await setUp(3_000);
    await env.streamer(schedule(), plenty);
    const keys = await env.runtime.stage.list('stage/sample/');
    expect(keys.length).toBeGreaterThan(4);
    const message = async (key: string) =>
      JSON.stringify({ ...(await env.runtime.stage.metadata(key)), key });
    const destination = await env.runtime.destination();
    let transactions = 0;
    const counting = createPersisterHandler(async () => ({
      ...env.runtime,
      destination: async () =>
        Object.assign(Object.create(destination), {
          begin: (tap: string) => {
            transactions += 1;
            return destination.begin(tap);
          },
        }),
    }));
    const together = await counting(
      sqsEvent([
        { receipt: 'a', body: await message(keys[0] ?? '') },
        { receipt: 'b', body: await message(keys[1] ?? '') },
      ]),
      plenty,
    );
    expect(together.batchItemFailures).toEqual([]);
    expect(transactions).toBe(1);
    // seq 2 and 3 load; seq 5 waits for the missing seq 4: the group fails, then loads one by one
    transactions = 0;
    const event = sqsEvent([
      { receipt: 'c', body: await message(keys[2] ?? '') },
      { receipt: 'd', body: await message(keys[3] ?? '') },
      { receipt: 'e', body: await message(keys[5] ?? '') },
    ]);
    const gap = await counting(event, plenty);
    expect(gap.batchItemFailures).toEqual([{ itemIdentifier: event.Records[2]?.messageId }]);
    expect(transactions).toBe(4);
    const ledger = await destination.ledger('sample');
    expect(ledger.map((entry) => entry.seq)).toEqual([0, 1, 2, 3]);
    expect((await env.runtime.stateStore.read('sample')).committed).toMatchObject({ seq: 3 });
  });

  it('trib status --aws and trib replay s3://… work on the deployed pipeline', async () => {
    const env = await setUp(1_000);
    await env.streamer(schedule(), plenty);
    await env.drain();
    const awsEnv = { TRIBUTARY_S3_PATH_STYLE: 'true' };
    const status = await shell(
      `"$TRIB" status --aws --bucket ${env.settings.bucket} --table ${env.settings.table} --dlq-url "${env.settings.queueUrl}"`,
      env.settings.folder,
      awsEnv,
    );
    expect(status.stderr).not.toMatch(/Error/); // on Node 20 the AWS SDK prints a notice that its 2027 releases need Node 22
    expect(status.stdout).toMatch(/dead-letter queue: 0 chunk\(s\)/);
    expect(status.stdout).toMatch(/sample\n {2}last run: +succeeded/);
    expect(status.stdout).toMatch(/lag: +0 chunks staged but not loaded/);
    const [first] = await env.runtime.stage.list('stage/sample/');
    const uri = `s3://${env.settings.bucket}/${first}`;
    const requeued = await shell(
      `"$TRIB" replay ${uri} --queue-url "${env.settings.queueUrl}" --table ${env.settings.table}`,
      env.settings.folder,
      awsEnv,
    );
    expect(requeued.stdout).toMatch(/sent to the chunk queue again/);
    expect(await env.drain()).toBe(1); // delivered despite FIFO deduplication, and skipped by the ledger
    expect(await env.count('SELECT count(*) AS n FROM main._tributary_chunks')).toBe(
      (await env.runtime.stage.list('stage/sample/')).length,
    );
    const direct = await shell(
      `"$TRIB" replay ${uri} --direct --to duckdb:copy.duckdb`,
      env.settings.folder,
      awsEnv,
    );
    expect(direct.stdout).toMatch(/loaded \d+ records/);
    // Without the state table nothing can tell an orphan from a chunk on the tap's chain: refused.
    const noTable = await shell(
      `"$TRIB" replay ${uri} --queue-url "${env.settings.queueUrl}"`,
      env.settings.folder,
      awsEnv,
    );
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toMatch(/needs --table \(the stack output StateTableName\)/);
    const missing = await shell(
      `"$TRIB" replay ${uri} --table ${env.settings.table}`,
      env.settings.folder,
      awsEnv,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/give --queue-url \(the stack output ChunkQueueUrl\), or --direct/);
  });

  it('trib redrive --aws: a tap whose chunks were dead-lettered loads them all, in order, once, and its dead letters are removed', async () => {
    const env = await setUp(3_000);
    await env.streamer(schedule(), plenty);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const dlq = await sqs.send(
      new CreateQueueCommand({
        QueueName: `dead-${randomBytes(4).toString('hex')}.fifo`,
        Attributes: { FifoQueue: 'true' },
      }),
    );
    const dlqUrl = dlq.QueueUrl ?? '';
    // Every chunk message of the run ends in the dead-letter queue (as after five failed deliveries),
    // with another tap's message beside them.
    let moved = 0;
    for (;;) {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: env.settings.queueUrl, MaxNumberOfMessages: 10 }),
      );
      if ((received.Messages ?? []).length === 0) break;
      for (const message of received.Messages ?? []) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: dlqUrl,
            MessageBody: message.Body ?? '',
            MessageGroupId: 'sample',
            MessageDeduplicationId: `dead-${moved++}`,
          }),
        );
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: env.settings.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    const other = JSON.stringify({
      tap: 'other',
      run: 'r0000000001-x',
      seq: 0,
      key: 'stage/other/r0000000001-x/000000.jsonl.gz',
      previous: null,
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: other,
        MessageGroupId: 'other',
        MessageDeduplicationId: 'other-0',
      }),
    );
    expect(moved).toBeGreaterThan(2);
    expect(await env.drain()).toBe(0); // stuck: nothing left to load
    const redrive = await shell(
      `"$TRIB" redrive sample --aws --bucket ${env.settings.bucket} --table ${env.settings.table} --queue-url "${env.settings.queueUrl}" --dlq-url "${dlqUrl}"`,
      env.settings.folder,
      { TRIBUTARY_S3_PATH_STYLE: 'true' },
    );
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(redrive.stdout).toMatch(
      new RegExp(`tap sample: ${moved} chunk\\(s\\) sent to the chunk queue, oldest first`),
    );
    expect(redrive.stdout).toMatch(new RegExp(`removed ${moved} dead letter\\(s\\) of tap sample`));
    expect(await env.drain()).toBe(moved);
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(3_000);
    expect(await env.count('SELECT count(DISTINCT id) AS n FROM sample.orders')).toBe(
      await env.count('SELECT count(*) AS n FROM sample.orders'),
    );
    const state = await env.runtime.stateStore.read('sample');
    expect(state.committed).toMatchObject({ run: state.staged?.run, seq: state.staged?.seq });
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    expect((left.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}').tap)).toEqual(['other']);
  });

  it('operator commands with --aws: chunks lists, rewind drops what the queue still holds, the next run reads it again once; skip lets successors load', async () => {
    const env = await setUp(3_000);
    const awsEnv = { TRIBUTARY_S3_PATH_STYLE: 'true' };
    const where = `--aws --bucket ${env.settings.bucket} --table ${env.settings.table}`;
    await env.streamer(schedule(), plenty); // staged and queued, not loaded yet
    const listed = await shell(`"$TRIB" chunks sample ${where}`, env.settings.folder, awsEnv);
    expect(listed.stdout, listed.stderr).toMatch(/\/000000 +waiting \(next\)/);
    const rewound = await shell(`"$TRIB" rewind sample ${where} --yes`, env.settings.folder, awsEnv);
    expect(rewound.code, rewound.stderr).toBe(0);
    expect(rewound.stdout).toMatch(/the next run starts from the start \(nothing was ever committed\)/);
    expect(rewound.stdout).toMatch(
      /The destination's ledger is not asked from here: .* Let the chunk queue drain first/,
    );
    expect((await shell(`"$TRIB" chunks sample ${where}`, env.settings.folder, awsEnv)).stdout).toMatch(
      /\/000000 +dropped/,
    );
    await env.drain(); // the queue still delivers the dropped chunks: none loads
    expect((await env.runtime.stateStore.read('sample')).committed).toBeUndefined();
    await env.streamer(schedule(), plenty); // reads everything again
    await env.drain();
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(3_000);
    expect(await env.count('SELECT count(*) - count(DISTINCT id) AS n FROM sample.orders')).toBe(0);
    const orders = await env.count('SELECT count(*) AS n FROM sample.orders');
    expect(orders).toBe(3_000);

    // skip --aws: a fresh deployment whose first chunk is given up; the chunks after it load.
    const other = await setUp(3_000);
    const otherWhere = `--aws --bucket ${other.settings.bucket} --table ${other.settings.table}`;
    await other.streamer(schedule(), plenty);
    const [first] = await other.runtime.stage.list('stage/sample/');
    const firstRecords = (await other.runtime.stage.metadata(first ?? ''))?.records ?? 0;
    const skipped = await shell(
      `"$TRIB" chunks skip s3://${other.settings.bucket}/${first} --accept-data-loss --reason test ${otherWhere} --to duckdb:${join(other.settings.folder, 'warehouse.duckdb')}`,
      other.settings.folder,
      awsEnv,
    );
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(/Skipped chunk .*\/000000 of tap sample/);
    await other.drain();
    const loaded =
      (await other.count('SELECT count(*) AS n FROM sample.customers')) +
      (await other.count('SELECT count(*) AS n FROM sample.orders'));
    expect(loaded).toBe(6_000 - firstRecords);
    expect((await other.runtime.stateStore.read('sample')).skipped).toMatchObject([
      { seq: 0, reason: 'test' },
    ]);
  });

  it('in Lambda too, a stream that fails alone keeps what the others read: staged, loaded, committed; the next run retries it (#13.1)', async () => {
    const github = await new GithubApi().start();
    try {
      const env = await setUp(
        0,
        (folder) => `
destination: { type: duckdb, path: ${join(folder, 'warehouse.duckdb')} }
taps:
  sample:
    streamer: github
    schedule: rate(1 hour)
    config:
      access_token: ${github.token}
      repositories: [acme/api]
      start_date: "2024-01-01T00:00:00Z"
      base_url: ${github.baseUrl}
`,
      );
      github.refused.set('comments', 404);
      await expect(env.streamer(schedule(), plenty)).rejects.toThrow(/issue_comments/);
      github.refused.clear();
      await env.drain();
      const count = (table: string) => env.count(`SELECT count(*) AS n FROM sample.${table}`);
      expect(await count('commits')).toBe(github.repositories.get('acme/api')?.commits.length);
      const state = await env.runtime.stateStore.read('sample');
      expect(state.lastRun).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/issue_comments/),
      });
      expect(state.committed).toBeDefined();
      expect(state.lease).toBeUndefined();
      await env.streamer(schedule(), plenty); // the token sees comments now
      await env.drain();
      expect(await count('issue_comments')).toBe(github.repositories.get('acme/api')?.comments.length);
      expect(await count('commits')).toBe(github.repositories.get('acme/api')?.commits.length);
    } finally {
      await github.stop();
    }
  });

  it('the deployed handlers read their settings from the environment, as Lambda runs them', async () => {
    const settings = await serverlessResources(pipelineYaml(500));
    Object.assign(process.env, {
      TRIBUTARY_PIPELINE_FILE: settings.pipelineFile,
      TRIBUTARY_STAGE_BUCKET: settings.bucket,
      TRIBUTARY_QUEUE_URL: settings.queueUrl,
      TRIBUTARY_STATE_TABLE: settings.table,
      TRIBUTARY_S3_PATH_STYLE: 'true',
      TRIBUTARY_FUNCTION: 'streamer',
      TRIBUTARY_TAP: 'sample',
    });
    const { handler: streamerHandler } = await import('../../functions/streamer/handler.ts');
    const { handler: persisterHandler } = await import('../../functions/persister/handler.ts');
    const result = await streamerHandler(schedule(), plenty);
    expect(result).toMatchObject({ status: 'finished', records: 1_000 });
    process.env.TRIBUTARY_FUNCTION = 'persister'; // each handler reads its settings at its first event
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    for (let round = 0; round < 10; round += 1) {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: settings.queueUrl, MaxNumberOfMessages: 10 }),
      );
      const messages = (received.Messages ?? []).map((m) => ({
        receipt: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
      }));
      if (messages.length === 0) break;
      const batch = await persisterHandler(sqsEvent(messages), plenty);
      expect(batch.batchItemFailures).toEqual([]);
      for (const message of messages)
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: settings.queueUrl, ReceiptHandle: message.receipt }),
        );
    }
    const state = await (await createAwsRuntime(settings)).stateStore.read('sample');
    expect(state.committed).toMatchObject({ run: result.run, seq: state.staged?.seq });
  });

  it('two overlapping schedule events for one tap: the second sees the lease and does nothing', async () => {
    const env = await setUp(2_000);
    const [a, b] = await Promise.all([env.streamer(schedule(), plenty), env.streamer(schedule(), plenty)]);
    expect([a.status, b.status].sort()).toEqual(['finished', 'skipped']);
    await env.drain();
    expect(await env.count('SELECT count(*) AS n FROM sample.customers')).toBe(2_000);
  });
});
