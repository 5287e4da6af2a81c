/**
 * Records every call the real SDK clients make (a middleware on each client the runtime creates) and
 * turns each into what IAM evaluates: the action, the resource ARN as it would be in the account, and
 * the condition keys the service sets (`s3:prefix`, `dynamodb:LeadingKeys`).
 */

import type { AwsCall } from '../../infra/permissions/expected-calls.ts';
import type { Account } from '../../infra/permissions/resolved-template.ts';
import type { AwsClient } from '../../lib/aws/runtime.ts';

export interface RecordedSdkCall {
  readonly client: string;
  readonly command: string;
  readonly input: Record<string, unknown>;
}

interface Stack {
  add(
    middleware: (
      next: (args: { input: unknown }) => Promise<unknown>,
      context: { clientName?: string; commandName?: string },
    ) => (args: { input: unknown }) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ): void;
}

/** A hook for AwsSettings.onClient that appends every call to `sink`. */
export function recordInto(sink: RecordedSdkCall[]): (client: AwsClient) => void {
  return (client) => {
    (client.middlewareStack as unknown as Stack).add(
      (next, context) => async (args) => {
        sink.push({
          client: context.clientName ?? '?',
          command: (context.commandName ?? '?').replace(/Command$/, ''),
          input: args.input as Record<string, unknown>,
        });
        return next(args);
      },
      { step: 'initialize', name: 'recordForIamCheck' },
    );
  };
}

/** The IAM calls one SDK call makes. */
export function iamCallsOf(
  call: RecordedSdkCall,
  account: Account,
  who: { readonly roleId: string; readonly caller: string },
): AwsCall[] {
  const { partition, region, accountId } = account;
  const input = call.input;
  const make = (action: string, resource: string, context?: Record<string, string | string[]>): AwsCall => ({
    ...who,
    action,
    resource,
    why: `${call.client}.${call.command}`,
    by: 'handler',
    ...(context === undefined ? {} : { context }),
  });
  const object = () => `arn:${partition}:s3:::${String(input.Bucket)}/${String(input.Key)}`;
  const queue = () =>
    `arn:${partition}:sqs:${region}:${accountId}:${String(input.QueueUrl).split('/').at(-1)}`;
  const table = () => `arn:${partition}:dynamodb:${region}:${accountId}:table/${String(input.TableName)}`;
  const leadingKey = () => {
    const key = ((input.Key ?? input.Item) as Record<string, unknown> | undefined)?.tap;
    const value = typeof key === 'string' ? key : (key as { S?: string } | undefined)?.S;
    return value === undefined ? undefined : { 'dynamodb:LeadingKeys': [value] };
  };
  switch (`${call.client}.${call.command}`) {
    case 'S3Client.PutObject':
    case 'S3Client.CreateMultipartUpload':
    case 'S3Client.UploadPart':
    case 'S3Client.CompleteMultipartUpload':
      return [make('s3:PutObject', object())];
    case 'S3Client.GetObject':
    case 'S3Client.HeadObject':
      return [make('s3:GetObject', object())];
    case 'S3Client.DeleteObject':
      return [make('s3:DeleteObject', object())];
    case 'S3Client.PutObjectTagging':
      return [make('s3:PutObjectTagging', object())];
    case 'S3Client.AbortMultipartUpload':
      return [make('s3:AbortMultipartUpload', object())];
    case 'S3Client.ListObjectsV2':
      return [
        make('s3:ListBucket', `arn:${partition}:s3:::${String(input.Bucket)}`, {
          's3:prefix': String(input.Prefix ?? ''),
        }),
      ];
    case 'SQSClient.SendMessage':
    case 'SQSClient.SendMessageBatch':
      return [make('sqs:SendMessage', queue())];
    case 'SQSClient.ReceiveMessage':
    case 'SQSClient.DeleteMessage':
    case 'SQSClient.ChangeMessageVisibility':
    case 'SQSClient.GetQueueAttributes':
      return [make(`sqs:${call.command}`, queue())];
    case 'DynamoDBClient.GetItem':
    case 'DynamoDBClient.UpdateItem':
    case 'DynamoDBClient.PutItem':
    case 'DynamoDBClient.DeleteItem': {
      const context = leadingKey();
      return [make(`dynamodb:${call.command}`, table(), context)];
    }
    case 'DynamoDBClient.Scan':
    case 'DynamoDBClient.Query':
      return [make(`dynamodb:${call.command}`, table())];
    case 'LambdaClient.Invoke':
      return [
        make(
          'lambda:InvokeFunction',
          `arn:${partition}:lambda:${region}:${accountId}:function:${String(input.FunctionName)}`,
        ),
      ];
    case 'SecretsManagerClient.GetSecretValue':
      return [
        make(
          'secretsmanager:GetSecretValue',
          `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${String(input.SecretId)}-AbCdEf`,
        ),
      ];
    case 'SecretsManagerClient.PutSecretValue':
      return [
        make(
          'secretsmanager:PutSecretValue',
          `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${String(input.SecretId)}-AbCdEf`,
        ),
      ];
    default:
      throw new Error(
        `${call.client}.${call.command} has no IAM mapping here: add one (its action and resource)`,
      );
  }
}

/** Whether a recorded call is one the model lists: same role, action and condition keys, resource of the same shape. */
export function matchesModel(recorded: AwsCall, modelled: AwsCall): boolean {
  if (recorded.roleId !== modelled.roleId || recorded.action !== modelled.action) return false;
  if (contextShape(recorded.context) !== contextShape(modelled.context)) return false;
  return shapeOf(recorded.resource) === shapeOf(modelled.resource);
}

/** Condition keys with ingest key and bucket hashes folded (any hash stands for all). */
function contextShape(context: AwsCall['context']): string {
  return JSON.stringify(context ?? {})
    .replace(/ingest-key#[0-9a-f]{64}/g, 'ingest-key#HASH')
    .replace(/(ingest-bucket#[^#"]+#)[0-9a-f]{32}/g, '$1HASH');
}

/** A resource with run ids, chunk numbers and spill object names folded, so one sample stands for all. */
function shapeOf(resource: string): string {
  return resource
    .replace(/\/stage\/([^/]+)\/[^/]+\/\d{6,}\.jsonl\.gz$/, '/stage/$1/RUN/SEQ.jsonl.gz')
    .replace(/\/state\/([^/]+)\/(staged|committed)\/[^/]+\.json$/, '/state/$1/$2/OBJECT.json')
    .replace(/\/inbox\/([^/]+)\/\d{15}-[0-9a-f-]+\.jsonl$/, '/inbox/$1/ENTRY.jsonl');
}
