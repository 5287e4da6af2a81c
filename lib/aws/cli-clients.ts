/**
 * AWS-backed stage, queue and state for the `trib` commands that work on a deployed pipeline
 * (`replay s3://…`, `status --aws`). Credentials and region come from the usual AWS environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoAccessKeys } from './dynamo-ingest-registry.ts';
import { DynamoStateStore } from './dynamo-state-store.ts';
import { S3Stage } from './s3-stage.ts';
import { SqsChunkQueue } from './sqs-chunk-queue.ts';

export interface AwsLocations {
  readonly bucket: string;
  readonly table?: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
}

export function awsStage(bucket: string): S3Stage {
  return new S3Stage(
    new S3Client({ forcePathStyle: process.env.TRIBUTARY_S3_PATH_STYLE === 'true' }),
    bucket,
  );
}

export function awsStateStore(table: string, bucket: string): DynamoStateStore {
  return new DynamoStateStore(new DynamoDBClient({}), table, {
    s3: new S3Client({ forcePathStyle: process.env.TRIBUTARY_S3_PATH_STYLE === 'true' }),
    bucket,
  });
}

export function awsQueue(queueUrl: string, bucket: string): SqsChunkQueue {
  return new SqsChunkQueue(new SQSClient({ useQueueUrlAsEndpoint: false }), queueUrl, `s3://${bucket}/`);
}

export function awsAccessKeys(table: string): DynamoAccessKeys {
  return new DynamoAccessKeys(new DynamoDBClient({}), table);
}
