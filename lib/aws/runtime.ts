/**
 * Builds what the Lambda handlers need from their environment: the pipeline file (with this
 * function's own `${secret:NAME}` values from Secrets Manager, cached with a TTL), the S3 stage, the
 * SQS queue, the DynamoDB state store, the self-invoker, and the destination. Endpoints come from the
 * SDK's own AWS_ENDPOINT_URL_<SERVICE> variables, so the same code runs against local emulators.
 */
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Destination } from '../destinations/destination.ts';
import { openDestination } from '../destinations/open-destination.ts';
import type { IngestTapStore } from '../ingest/event-inbox.ts';
import { parsePipeline } from '../pipeline/load-pipeline.ts';
import type { PipelineConfig } from '../pipeline/pipeline-config.ts';
import type { ContinuationInvoker } from '../pipeline/streamer-invocation.ts';
import type { ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import type { TokenStore } from '../streamer/token-store.ts';
import { DynamoAccessKeys, DynamoBuckets } from './dynamo-ingest-registry.ts';
import { DynamoStateStore } from './dynamo-state-store.ts';
import { type FunctionRole, secretsFor } from './function-secrets.ts';
import { LambdaContinuation } from './lambda-continuation.ts';
import { S3EventInbox } from './s3-inbox.ts';
import { S3Stage } from './s3-stage.ts';
import { SecretsCache, secretTokenStore } from './secrets.ts';
import { parseChunkMessage, SqsChunkQueue } from './sqs-chunk-queue.ts';

export type { FunctionRole } from './function-secrets.ts';

/** Any SDK client: the hook sees each one once, e.g. to record the calls it makes. */
export type AwsClient = S3Client | SQSClient | DynamoDBClient | LambdaClient | SecretsManagerClient;

export interface AwsSettings {
  readonly pipelineFile: string;
  readonly bucket: string;
  readonly queueUrl: string;
  readonly table: string;
  /** Which function this is: it reads only the secrets that function needs. */
  readonly role: FunctionRole;
  readonly kmsKeyId?: string;
  /** This function's name, for continuations (Lambda sets AWS_LAMBDA_FUNCTION_NAME). */
  readonly functionName?: string;
  /** s3rver and other emulators need path-style addressing. */
  readonly s3PathStyle?: boolean;
  /** How long a secret value is reused before it is read again. @default 300 */
  readonly secretsMaxAgeSeconds?: number;
  /** Bookmarks larger than this (serialised) are spilled to S3. @default 150 KiB */
  readonly inlineBookmarkBytes?: number;
  /** Called with every SDK client the runtime creates (tests record the calls for the IAM check). */
  readonly onClient?: (client: AwsClient) => void;
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
  const kind = required('TRIBUTARY_FUNCTION');
  if (kind !== 'streamer' && kind !== 'persister' && kind !== 'ingest')
    throw new RuntimeSettingsError(
      `environment variable TRIBUTARY_FUNCTION: received ${JSON.stringify(kind)}. Allowed: streamer, persister, ingest.`,
    );
  const maxAge = env.TRIBUTARY_SECRETS_MAX_AGE_SECONDS;
  return {
    pipelineFile: env.TRIBUTARY_PIPELINE_FILE ?? 'pipeline.yaml',
    bucket: required('TRIBUTARY_STAGE_BUCKET'),
    queueUrl: required('TRIBUTARY_QUEUE_URL'),
    table: required('TRIBUTARY_STATE_TABLE'),
    role: kind === 'persister' ? { kind } : { kind, tap: required('TRIBUTARY_TAP') },
    ...(env.TRIBUTARY_KMS_KEY_ID ? { kmsKeyId: env.TRIBUTARY_KMS_KEY_ID } : {}),
    ...(env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    ...(maxAge === undefined ? {} : { secretsMaxAgeSeconds: Number(maxAge) }),
    s3PathStyle: env.TRIBUTARY_S3_PATH_STYLE === 'true',
  };
}

export interface AwsRuntime {
  readonly role: FunctionRole;
  readonly pipeline: PipelineConfig;
  readonly stage: Stage;
  readonly queue: ChunkQueue;
  readonly stateStore: StateStore;
  readonly invoker: ContinuationInvoker;
  readonly parseMessage: typeof parseChunkMessage;
  /** The secrets a streamer may rewrite (rotated OAuth tokens), by name. */
  readonly secretStore: (name: string) => TokenStore;
  /** An ingest tap's inbox (`inbox/<tap>/` in the stage bucket) and buckets (in the state table). */
  readonly ingestStore: (tap: string) => IngestTapStore;
  /** Ingest access keys, hashed in the state table. */
  readonly accessKeys: DynamoAccessKeys;
  destination(): Promise<Destination>;
}

/**
 * The runtime for every invocation of one container: clients and connections are made once, the
 * pipeline is parsed again only when one of this function's secrets changed (read at most every
 * `secretsMaxAgeSeconds`), and the destination is reopened only when its settings changed.
 */
export function runtimeProvider(settings: AwsSettings): () => Promise<AwsRuntime> {
  const ports = createPorts(settings);
  // The file and which of its secrets this function reads are fixed for the container: read them once.
  let source: Promise<{ text: string; split: ReturnType<typeof secretsFor> }> | undefined;
  let current: { readonly secretsJson: string; readonly runtime: AwsRuntime } | undefined;
  let destination: { readonly json: string; readonly opened: Promise<Destination> } | undefined;
  const destinationFor = (pipeline: PipelineConfig): Promise<Destination> => {
    const json = JSON.stringify(pipeline.destination);
    if (destination?.json !== json) {
      const previous = destination?.opened;
      // The container runs one invocation at a time: the old pool is idle, closed before the new opens.
      const opened = (async () => {
        await previous?.then((old) => old.close()).catch(() => {});
        return openDestination(pipeline.destination);
      })();
      destination = { json, opened };
    }
    return destination.opened;
  };
  return async () => {
    source ??= readFile(settings.pipelineFile, 'utf8').then((text) => ({
      text,
      split: secretsFor(text, settings.role),
    }));
    const { text, split } = await source;
    const values = await ports.secrets.read(split.needed);
    const secretsJson = JSON.stringify(values);
    if (current?.secretsJson === secretsJson) return current.runtime;
    const pipeline = parsePipeline(text, settings.pipelineFile, {
      secrets: { ...split.placeholders, ...values },
    });
    if (settings.role.kind !== 'persister' && !pipeline.taps.has(settings.role.tap))
      throw new RuntimeSettingsError(
        `TRIBUTARY_TAP names tap ${JSON.stringify(settings.role.tap)}, which is not in ${settings.pipelineFile}; taps: ${[...pipeline.taps.keys()].join(', ')}`,
      );
    const runtime: AwsRuntime = {
      role: settings.role,
      pipeline,
      stage: ports.stage,
      queue: ports.queue,
      stateStore: ports.stateStore,
      invoker: ports.invoker,
      parseMessage: parseChunkMessage,
      secretStore: (name) => secretTokenStore(ports.secretsClient, name),
      ingestStore: ports.ingestStore,
      accessKeys: ports.accessKeys,
      destination: () => destinationFor(pipeline),
    };
    current = { secretsJson, runtime };
    return runtime;
  };
}

/** One runtime, resolved now (tests and one-off tools; handlers use runtimeProvider). */
export function createAwsRuntime(settings: AwsSettings): Promise<AwsRuntime> {
  return runtimeProvider(settings)();
}

function createPorts(settings: AwsSettings) {
  const observe = <T extends AwsClient>(client: T): T => {
    settings.onClient?.(client);
    return client;
  };
  const s3 = observe(new S3Client({ forcePathStyle: settings.s3PathStyle === true }));
  const kms = settings.kmsKeyId === undefined ? {} : { kmsKeyId: settings.kmsKeyId };
  const secretsClient = observe(new SecretsManagerClient({}));
  const dynamo = observe(new DynamoDBClient({}));
  return {
    ingestStore: (tap: string): IngestTapStore => ({
      inbox: new S3EventInbox(s3, settings.bucket, tap, settings.kmsKeyId),
      buckets: new DynamoBuckets(dynamo, settings.table, tap),
    }),
    accessKeys: new DynamoAccessKeys(dynamo, settings.table),
    secretsClient,
    secrets: new SecretsCache(secretsClient, settings.secretsMaxAgeSeconds ?? 300),
    stage: new S3Stage(s3, settings.bucket, kms),
    // Requests go to the SQS endpoint the SDK resolves, not one parsed from the queue URL (emulators
    // hand out queue URLs whose host does not parse).
    queue: new SqsChunkQueue(
      observe(new SQSClient({ useQueueUrlAsEndpoint: false })),
      settings.queueUrl,
      `s3://${settings.bucket}/`,
    ),
    stateStore: new DynamoStateStore(dynamo, settings.table, {
      s3,
      bucket: settings.bucket,
      ...kms,
      ...(settings.inlineBookmarkBytes === undefined
        ? {}
        : { inlineBookmarkBytes: settings.inlineBookmarkBytes }),
    }),
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
        : new LambdaContinuation(observe(new LambdaClient({})), settings.functionName),
  };
}
