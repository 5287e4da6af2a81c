/**
 * Every AWS call the deployed stack makes, as IAM sees it (principal role, action, resource ARN,
 * condition keys), derived from the synthesized template: what each tap's streamer, the persister,
 * Lambda on their behalf (logs, traces, the SQS event source) and the Scheduler do. Calls that must be
 * refused (one tap touching another's data or secrets) are listed too.
 *
 * The emulator test records the calls the real handlers make and checks each one is in this model,
 * so the model cannot drift from the code; `npm run deploy:check` evaluates the model against any
 * pipeline's template, where no source API can be run.
 */
import type { ResolvedTemplate, StackFunction } from './resolved-template.ts';

export interface AwsCall {
  /** The role whose policies decide (a function's execution role, the Scheduler's role). */
  readonly roleId: string;
  /** Who makes the call, for messages: `streamer github-acme`, `persister`, `scheduler`. */
  readonly caller: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
  /** Why the call is made, for messages. */
  readonly why: string;
  /**
   * Who sends it: our handler code (the emulator test must see every such call made), or AWS on the
   * function's behalf (Lambda's logs, traces and SQS event source; KMS under S3 and SQS; the Scheduler).
   */
  readonly by: 'handler' | 'aws';
}

export interface CallModel {
  /** Calls that must be allowed. */
  readonly allowed: AwsCall[];
  /** Calls that must be refused (isolation between taps and functions). */
  readonly refused: AwsCall[];
}

/** A run id and seq as the streamer makes them; any run id of that shape stands for all. */
const SAMPLE_CHUNK = '20260101T000000000Z-0a1b2c/000000.jsonl.gz';
/** Secrets Manager's random suffix on a secret's ARN. */
const SECRET_SUFFIX = 'AbCdEf';

export function secretArn(template: ResolvedTemplate, name: string): string {
  const { partition, region, accountId } = template.account;
  return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${name}-${SECRET_SUFFIX}`;
}

export interface ModelInput {
  readonly template: ResolvedTemplate;
  /** Secrets each tap's streamer reads, by tap. */
  readonly tapSecrets: Readonly<Record<string, readonly string[]>>;
  /** Secrets each tap's streamer rewrites (rotating OAuth tokens), by tap. */
  readonly tapWritableSecrets?: Readonly<Record<string, readonly string[]>>;
  readonly destinationSecrets: readonly string[];
  /** Secrets the ingest function reads (the access keys `ingest.keys` lists). */
  readonly ingestSecrets?: readonly string[];
}

/** An inbox entry as the ingest function names it; any entry of that shape stands for all. */
const SAMPLE_INBOX_ENTRY = '001764000000000-0a1b2c3d-0000-4000-8000-000000000000.jsonl';
/** A key or bucket item of the state table (a SHA-256 prefix); any hash stands for all. */
export const SAMPLE_KEY_ITEM = `ingest-key#${'0'.repeat(64)}`;
export const sampleBucketItem = (tap: string) => `ingest-bucket#${tap}#${'0'.repeat(32)}`;

/** A function that appends handler calls of one role to a list. */
function adder(list: AwsCall[], roleId: string, caller: string) {
  return (action: string, resource: string, why: string, context?: Record<string, string | string[]>) =>
    list.push({
      roleId,
      caller,
      action,
      resource,
      why,
      by: 'handler',
      ...(context === undefined ? {} : { context }),
    });
}

export function expectedCalls(input: ModelInput): CallModel {
  const { template } = input;
  const bucketArn = template.attributeOf(template.logicalId('AWS::S3::Bucket', 'Stage'), 'Arn');
  const queueArn = template.attributeOf(template.logicalId('AWS::SQS::Queue', 'Chunks'), 'Arn');
  const tableArn = template.attributeOf(template.logicalId('AWS::DynamoDB::Table', 'State'), 'Arn');
  const keys = template.resourcesOfType('AWS::KMS::Key');
  const keyArn = keys[0] === undefined ? undefined : template.attributeOf(keys[0][0], 'Arn');
  const functions = template.functions();
  const streamers = functions.filter((fn) => fn.environment.TRIBUTARY_FUNCTION === 'streamer');
  const ingest = functions.find((fn) => fn.environment.TRIBUTARY_FUNCTION === 'ingest');
  const ingestTap = ingest?.environment.TRIBUTARY_TAP;
  const persister = functions.find((fn) => fn.environment.TRIBUTARY_FUNCTION === 'persister');
  const taps = streamers.map((fn) => fn.environment.TRIBUTARY_TAP ?? '');
  const allowed: AwsCall[] = [];
  const refused: AwsCall[] = [];

  const lambdaRuntime = (fn: StackFunction, caller: string) => {
    const call = (action: string, resource: string, why: string) =>
      allowed.push({ roleId: fn.roleId, caller, action, resource, why, by: 'aws' });
    if (fn.logGroupArn !== undefined) {
      call(
        'logs:CreateLogStream',
        `${fn.logGroupArn}:log-stream:2026/01/01/[$LATEST]0a1b2c`,
        'Lambda writes logs',
      );
      call(
        'logs:PutLogEvents',
        `${fn.logGroupArn}:log-stream:2026/01/01/[$LATEST]0a1b2c`,
        'Lambda writes logs',
      );
    }
    call('xray:PutTraceSegments', '*', 'active tracing');
    call('xray:PutTelemetryRecords', '*', 'active tracing');
  };
  /** S3 objects and SQS messages under the stack key: a put needs a data key, a get decrypts. */
  const withKey = (fn: StackFunction, caller: string, actions: readonly string[], why: string) => {
    if (keyArn === undefined) return;
    for (const action of actions)
      allowed.push({ roleId: fn.roleId, caller, action, resource: keyArn, why, by: 'aws' });
  };

  for (const fn of streamers) {
    const tap = fn.environment.TRIBUTARY_TAP ?? '';
    const caller = `streamer ${tap}`;
    const call = adder(allowed, fn.roleId, caller);
    const refuse = adder(refused, fn.roleId, caller);
    for (const name of input.tapSecrets[tap] ?? [])
      call('secretsmanager:GetSecretValue', secretArn(template, name), 'tap config');
    for (const name of input.tapWritableSecrets?.[tap] ?? []) {
      call('secretsmanager:GetSecretValue', secretArn(template, name), 'the stored OAuth refresh token');
      call(
        'secretsmanager:PutSecretValue',
        secretArn(template, name),
        'a rotated OAuth refresh token, kept before it is used',
      );
    }
    const chunk = `${bucketArn}/stage/${tap}/${SAMPLE_CHUNK}`;
    call('s3:PutObject', chunk, 'stage a chunk');
    call('s3:GetObject', chunk, "the outbox reads a waiting chunk's metadata to send it again");
    // A bookmark too big for the state item: the streamer writes `staged`, and reads both back.
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'])
      call(action, `${bucketArn}/state/${tap}/staged/x.json`, 'a staged bookmark too big for the state item');
    call('s3:GetObject', `${bucketArn}/state/${tap}/committed/x.json`, 'the committed bookmark, spilled');
    call('sqs:SendMessage', queueArn, 'enqueue a staged chunk');
    for (const action of ['dynamodb:GetItem', 'dynamodb:UpdateItem'])
      call(action, tableArn, "the tap's state item", { 'dynamodb:LeadingKeys': [tap] });
    call('lambda:InvokeFunction', fn.arn, 'continue the run in a new invocation');
    withKey(fn, caller, ['kms:GenerateDataKey', 'kms:Decrypt'], 'encrypted chunks, bookmarks and messages');
    lambdaRuntime(fn, caller);
    if (tap === ingestTap) {
      call('s3:ListBucket', bucketArn, 'list the inbox', { 's3:prefix': `inbox/${tap}/` });
      call('s3:GetObject', `${bucketArn}/inbox/${tap}/${SAMPLE_INBOX_ENTRY}`, 'read accepted events');
      call(
        's3:DeleteObject',
        `${bucketArn}/inbox/${tap}/${SAMPLE_INBOX_ENTRY}`,
        'delete events a staged chunk holds',
      );
    } else if (ingestTap !== undefined) {
      refuse('s3:GetObject', `${bucketArn}/inbox/${ingestTap}/${SAMPLE_INBOX_ENTRY}`, 'read pushed events');
      refuse('s3:ListBucket', bucketArn, 'list the inbox', { 's3:prefix': `inbox/${ingestTap}/` });
    }

    for (const other of taps.filter((name) => name !== tap)) {
      refuse('s3:PutObject', `${bucketArn}/stage/${other}/${SAMPLE_CHUNK}`, `write tap ${other}'s chunks`);
      refuse('s3:ListBucket', bucketArn, `list tap ${other}'s chunks`, { 's3:prefix': `stage/${other}/` });
      refuse('dynamodb:UpdateItem', tableArn, `change tap ${other}'s state`, {
        'dynamodb:LeadingKeys': [other],
      });
      for (const name of input.tapSecrets[other] ?? [])
        if (!(input.tapSecrets[tap] ?? []).includes(name))
          refuse('secretsmanager:GetSecretValue', secretArn(template, name), `read tap ${other}'s secret`);
      for (const name of input.tapWritableSecrets?.[other] ?? [])
        if (!(input.tapWritableSecrets?.[tap] ?? []).includes(name))
          refuse(
            'secretsmanager:PutSecretValue',
            secretArn(template, name),
            `overwrite tap ${other}'s token`,
          );
    }
    // Rewriting is for its own token secret only: never the secrets it just reads.
    for (const name of input.tapSecrets[tap] ?? [])
      if (!(input.tapWritableSecrets?.[tap] ?? []).includes(name))
        refuse(
          'secretsmanager:PutSecretValue',
          secretArn(template, name),
          'overwrite a secret it only reads',
        );
    for (const name of input.destinationSecrets)
      if (!(input.tapSecrets[tap] ?? []).includes(name))
        refuse('secretsmanager:GetSecretValue', secretArn(template, name), "read the destination's secret");
    refuse('sqs:ReceiveMessage', queueArn, 'take chunks from the persister');
  }

  if (persister !== undefined) {
    const caller = 'persister';
    const call = (
      action: string,
      resource: string,
      why: string,
      context?: Record<string, string | string[]>,
      by: AwsCall['by'] = 'handler',
    ) =>
      allowed.push({
        roleId: persister.roleId,
        caller,
        action,
        resource,
        why,
        by,
        ...(context === undefined ? {} : { context }),
      });
    for (const name of input.destinationSecrets)
      call('secretsmanager:GetSecretValue', secretArn(template, name), 'destination URL');
    for (const action of [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ])
      call(action, queueArn, "Lambda's SQS event source", undefined, 'aws');
    for (const tap of taps) {
      const chunk = `${bucketArn}/stage/${tap}/${SAMPLE_CHUNK}`;
      call('s3:GetObject', chunk, 'read a chunk to load');
      call('s3:PutObjectTagging', chunk, 'mark a chunk loaded, so it may expire');
      // The persister moves `committed` forward; of the state it reads only the ranges a rewind dropped.
      for (const action of ['s3:PutObject', 's3:DeleteObject'])
        call(
          action,
          `${bucketArn}/state/${tap}/committed/x.json`,
          'a committed bookmark too big for the state item',
        );
      call('dynamodb:UpdateItem', tableArn, 'move the committed bookmark', { 'dynamodb:LeadingKeys': [tap] });
      call('dynamodb:GetItem', tableArn, 'read the chunk ranges trib rewind dropped', {
        'dynamodb:LeadingKeys': [tap],
      });
    }
    withKey(
      persister,
      caller,
      ['kms:GenerateDataKey', 'kms:Decrypt'],
      'encrypted chunks, bookmarks and messages',
    );
    lambdaRuntime(persister, caller);
    for (const [tap, names] of Object.entries(input.tapSecrets))
      for (const name of names)
        if (!input.destinationSecrets.includes(name))
          refused.push({
            roleId: persister.roleId,
            caller,
            action: 'secretsmanager:GetSecretValue',
            resource: secretArn(template, name),
            why: `read tap ${tap}'s secret`,
            by: 'handler',
          });
    refused.push({
      roleId: persister.roleId,
      caller,
      action: 'sqs:SendMessage',
      resource: queueArn,
      why: 'enqueue chunks (only streamers stage them)',
      by: 'handler',
    });
  }

  if (ingest !== undefined && ingestTap !== undefined) {
    const caller = 'ingest';
    const call = adder(allowed, ingest.roleId, caller);
    const refuse = adder(refused, ingest.roleId, caller);
    for (const name of input.ingestSecrets ?? [])
      call(
        'secretsmanager:GetSecretValue',
        secretArn(template, name),
        'an access key the pipeline file lists',
      );
    call(
      's3:PutObject',
      `${bucketArn}/inbox/${ingestTap}/${SAMPLE_INBOX_ENTRY}`,
      'store an accepted request',
    );
    call('dynamodb:GetItem', tableArn, 'look up an access key by its hash', {
      'dynamodb:LeadingKeys': [SAMPLE_KEY_ITEM],
    });
    call('dynamodb:GetItem', tableArn, "a bucket's name", {
      'dynamodb:LeadingKeys': [sampleBucketItem(ingestTap)],
    });
    call('dynamodb:PutItem', tableArn, 'create a bucket (conditional: 201 once, then 204)', {
      'dynamodb:LeadingKeys': [sampleBucketItem(ingestTap)],
    });
    withKey(ingest, caller, ['kms:GenerateDataKey'], 'encrypted inbox objects');
    lambdaRuntime(ingest, caller);
    refuse(
      's3:PutObject',
      `${bucketArn}/stage/${ingestTap}/${SAMPLE_CHUNK}`,
      'stage chunks (only streamers do)',
    );
    refuse('s3:GetObject', `${bucketArn}/inbox/${ingestTap}/${SAMPLE_INBOX_ENTRY}`, 'read the inbox back');
    for (const tap of taps)
      refuse('dynamodb:UpdateItem', tableArn, `change tap ${tap}'s state`, { 'dynamodb:LeadingKeys': [tap] });
    refuse('dynamodb:PutItem', tableArn, 'write an access key', {
      'dynamodb:LeadingKeys': [SAMPLE_KEY_ITEM],
    });
    refuse('sqs:SendMessage', queueArn, 'enqueue chunks');
    for (const name of input.destinationSecrets)
      refuse('secretsmanager:GetSecretValue', secretArn(template, name), "read the destination's secret");
  }

  const [scheduleQueue] = template
    .resourcesOfType('AWS::SQS::Queue')
    .filter(([id]) => id.startsWith('ScheduleDeadLetters'));
  for (const [, schedule] of template.resourcesOfType('AWS::Scheduler::Schedule')) {
    const target = template.resolve(schedule.Properties?.Target) as { Arn: string; RoleArn: string };
    const roleId = template.logicalId('AWS::IAM::Role', 'SchedulerRole');
    allowed.push({
      roleId,
      caller: 'scheduler',
      action: 'lambda:InvokeFunction',
      resource: target.Arn,
      why: 'start a run',
      by: 'aws',
    });
    if (scheduleQueue !== undefined)
      allowed.push({
        roleId,
        caller: 'scheduler',
        action: 'sqs:SendMessage',
        resource: template.attributeOf(scheduleQueue[0], 'Arn'),
        why: 'dead-letter an event it could not deliver',
        by: 'aws',
      });
    if (keyArn !== undefined)
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt'])
        allowed.push({
          roleId,
          caller: 'scheduler',
          action,
          resource: keyArn,
          why: 'the encrypted schedule dead-letter queue',
          by: 'aws',
        });
  }
  return { allowed, refused };
}
