/**
 * Builds what the Lambda handlers need from their environment, once per cold start: the pipeline file
 * (with `${secret:NAME}` from Secrets Manager), the S3 stage, the SQS queue, the DynamoDB state store,
 * the self-invoker, and the destination. Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE>
 * variables, so the same code runs against local emulators.
 */
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Destination } from '../destinations/destination.ts';
import { openDestination } from '../destinations/open-destination.ts';
import { parsePipeline } from '../pipeline/load-pipeline.ts';
import type { PipelineConfig } from '../pipeline/pipeline-config.ts';
import type { ContinuationInvoker } from '../pipeline/streamer-invocation.ts';
import type { ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import { DynamoStateStore } from './dynamo-state-store.ts';
import { LambdaContinuation } from './lambda-continuation.ts';
import { S3Stage } from './s3-stage.ts';
import { fetchSecrets, secretNamesIn } from './secrets.ts';
import { parseChunkMessage, SqsChunkQueue } from './sqs-chunk-queue.ts';

export interface AwsSettings {
  readonly pipelineFile: string;
  readonly bucket: string;
  readonly queueUrl: string;
  readonly table: string;
  readonly kmsKeyId?: string;
  /** This function's name, for continuations (Lambda sets AWS_LAMBDA_FUNCTION_NAME). */
  readonly functionName?: string;
  /** s3rver and other emulators need path-style addressing. */
  readonly s3PathStyle?: boolean;
}

export class RuntimeSettingsError extends Error {
  override readonly name = 'RuntimeSettingsError';
}

export function settingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): AwsSettings {
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '')
      throw new RuntimeSettingsError(
        `environment variable ${name} is not set; the CDK stack sets it on every function`,
      );
    return value;
  };
  return {
    pipelineFile: env.TRIBUTARY_PIPELINE_FILE ?? 'pipeline.yaml',
    bucket: required('TRIBUTARY_STAGE_BUCKET'),
    queueUrl: required('TRIBUTARY_QUEUE_URL'),
    table: required('TRIBUTARY_STATE_TABLE'),
    ...(env.TRIBUTARY_KMS_KEY_ID ? { kmsKeyId: env.TRIBUTARY_KMS_KEY_ID } : {}),
    ...(env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    s3PathStyle: env.TRIBUTARY_S3_PATH_STYLE === 'true',
  };
}

export interface AwsRuntime {
  readonly pipeline: PipelineConfig;
  readonly stage: Stage;
  readonly queue: ChunkQueue;
  readonly stateStore: StateStore;
  readonly invoker: ContinuationInvoker;
  readonly parseMessage: typeof parseChunkMessage;
  destination(): Promise<Destination>;
}

export async function createAwsRuntime(settings: AwsSettings): Promise<AwsRuntime> {
  const s3 = new S3Client({ forcePathStyle: settings.s3PathStyle === true });
  const text = await readFile(settings.pipelineFile, 'utf8');
  const names = secretNamesIn(text);
  const secrets = names.length === 0 ? {} : await fetchSecrets(new SecretsManagerClient({}), names);
  const pipeline = parsePipeline(text, settings.pipelineFile, { secrets });
  const stage = new S3Stage(
    s3,
    settings.bucket,
    settings.kmsKeyId === undefined ? {} : { kmsKeyId: settings.kmsKeyId },
  );
  let destination: Promise<Destination> | undefined;
  return {
    pipeline,
    stage,
    // Requests go to the SQS endpoint the SDK resolves, not one parsed from the queue URL (emulators
    // hand out queue URLs whose host does not parse).
    queue: new SqsChunkQueue(
      new SQSClient({ useQueueUrlAsEndpoint: false }),
      settings.queueUrl,
      `s3://${settings.bucket}/`,
    ),
    stateStore: new DynamoStateStore(new DynamoDBClient({}), settings.table, { s3, bucket: settings.bucket }),
    invoker:
      settings.functionName === undefined
        ? {
            continueWith: async () =>
              Promise.reject(
                new RuntimeSettingsError(
                  'AWS_LAMBDA_FUNCTION_NAME is not set: cannot hand the run to a new invocation',
                ),
              ),
          }
        : new LambdaContinuation(new LambdaClient({}), settings.functionName),
    parseMessage: parseChunkMessage,
    destination: () => {
      // One connection pool per container, opened on first use and kept warm between invocations.
      destination ??= openDestination(pipeline.destination);
      return destination;
    },
  };
}
