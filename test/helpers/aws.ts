import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { inject } from 'vitest';
import { type AwsSettings, createAwsRuntime } from '../../lib/aws/runtime.ts';
import { temporaryFolder } from './chunks.ts';

/** Points the SDK's clients at the emulators (the same variables work for any AWS endpoint). */
export function useEmulators(): void {
  const endpoints = inject('awsEndpoints');
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  });
}

/** A bucket, a FIFO queue and a state table of this test's own, and a pipeline file using them. */
export async function serverlessResources(
  pipelineYaml: (folder: string) => string,
): Promise<AwsSettings & { folder: string }> {
  useEmulators();
  const id = randomBytes(4).toString('hex');
  const bucket = `tributary-stage-${id}`;
  const table = `tributary-state-${id}`;
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucket }));
  const queue = await new SQSClient({}).send(
    new CreateQueueCommand({
      QueueName: `chunks-${id}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', VisibilityTimeout: '30' },
    }),
  );
  await createStateTable(table);
  const folder = temporaryFolder('tributary-serverless-');
  const pipelineFile = join(folder, 'pipeline.yaml');
  writeFileSync(pipelineFile, pipelineYaml(folder));
  return {
    folder,
    pipelineFile,
    bucket,
    table,
    queueUrl: queue.QueueUrl ?? '',
    s3PathStyle: true,
    role: { kind: 'streamer', tap: 'sample' },
  };
}

export { createAwsRuntime };

/** A state table as the stack makes it (keyed by tap), on the emulator. */
export async function createStateTable(table: string): Promise<void> {
  await new DynamoDBClient({}).send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'tap', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'tap', KeyType: 'HASH' }],
    }),
  );
}

export function lambdaContext(remainingMs: () => number): Context {
  return {
    getRemainingTimeInMillis: remainingMs,
    functionName: 'tributary-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:tributary-test',
    memoryLimitInMB: '1024',
    awsRequestId: randomBytes(8).toString('hex'),
    logGroupName: 'test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: false,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** What Lambda's SQS event source sends for received messages. */
export function sqsEvent(messages: ReadonlyArray<{ receipt: string; body: string }>): SQSEvent {
  return {
    Records: messages.map((message, index) => ({
      messageId: `m-${index}-${message.receipt.slice(0, 12)}`,
      receiptHandle: message.receipt,
      body: message.body,
      attributes: {} as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:chunks.fifo',
      awsRegion: 'us-east-1',
    })),
  };
}
