/**
 * The exactly-once property on the emulated AWS path: the same random schedules and checks as
 * exactly-once.test.ts, with the stage in S3 (s3rver), the state in DynamoDB (dynalite, bookmarks
 * spilled to S3 past a small size) and the chunk queue on SQS FIFO with a dead-letter queue after five
 * receives (fauxqs), through the real SDK clients. Redrives are `trib redrive`'s own code.
 *
 * Cases: TRIB_PROPERTY_AWS_RUNS (default 200, as in CI).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { S3Stage } from '../../lib/aws/s3-stage.ts';
import { createStateTable, useEmulators } from '../helpers/aws.ts';
import { check, step } from './check.ts';
import { SqsQueueModel } from './sqs-queue-model.ts';
import { World } from './world.ts';

const RUNS = Number(process.env.TRIB_PROPERTY_AWS_RUNS ?? 200);

describe('exactly-once under random schedules, on the emulated AWS path', () => {
  it(`holds for ${RUNS} schedules over S3, DynamoDB and SQS with a dead-letter queue`, async () => {
    useEmulators();
    const s3 = new S3Client({ forcePathStyle: true });
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const dynamo = new DynamoDBClient({});
    // What the schedules reached, so a model that never dead-letters or spills cannot pass unnoticed.
    const reached = { deadLettersCleared: 0, chunksLoaded: 0, spilled: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const id = randomUUID().slice(0, 8);
        const bucket = `prop-${id}`;
        const table = `prop-${id}`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        await createStateTable(table);
        const queue = await SqsQueueModel.create(sqs, `s3://${bucket}/`);
        const world = new World({
          stage: new S3Stage(s3, bucket),
          // Bookmarks from {"cursor":10} on are spilled to S3, so both kinds of item are written.
          stateStore: (clock) =>
            new DynamoStateStore(dynamo, table, { s3, bucket, inlineBookmarkBytes: 12 }, clock),
          queue: () => queue,
        });
        const problem = await check(steps, world);
        expect(problem).toBeUndefined();
        for (const line of world.log) {
          const cleared = /cleared (\d+) dead letter/.exec(line);
          if (cleared !== null) reached.deadLettersCleared += Number(cleared[1]);
        }
        reached.chunksLoaded += (await world.memoryDestination.ledger('prop')).length;
        if ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'state/' }))).KeyCount)
          reached.spilled += 1;
      }),
      { numRuns: RUNS, verbose: 1 },
    );
    expect(reached.deadLettersCleared).toBeGreaterThan(0);
    expect(reached.chunksLoaded).toBeGreaterThan(RUNS);
    expect(reached.spilled).toBeGreaterThan(0);
  }, 1_200_000);
});
