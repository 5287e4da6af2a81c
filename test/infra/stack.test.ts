/** The stack as CloudFormation sees it: resources, their key settings, IAM per function, schedules. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { queueSettings, VISIBILITY_PER_TIMEOUT } from '../../infra/constructs/queue-settings.ts';
import { ResolvedTemplate, type Template } from '../../infra/permissions/resolved-template.ts';
import { INGEST_TIMEOUT_SECONDS } from '../../infra/stacks/tributary-stack.ts';
import { RUN_SUCCEEDED_METRIC } from '../../lib/aws/run-metric.ts';
import { S3_INBOX_SETTLE_MS } from '../../lib/aws/s3-inbox.ts';
import { planDeployment } from '../../lib/pipeline/deploy-plan.ts';
import { PipelineConfigError } from '../../lib/pipeline/load-pipeline.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { repoRoot } from '../helpers/paths.ts';
import { synthStack } from '../helpers/synth.ts';

const example = join(repoRoot, 'examples', 'aws-pipeline.yaml');

const { stack, template } = synthStack(example);
const resolved = new ResolvedTemplate(template.toJSON() as Template);
const account = 'arn:aws:%s:us-east-1:123456789012';
/** A role's statements as they would be in the account: every intrinsic resolved to its ARN. */
const statementsOf = (rolePrefix: string) =>
  resolved
    .policiesOfRole(resolved.logicalId('AWS::IAM::Role', rolePrefix))
    .flatMap((policy) => policy.document.Statement)
    .filter((statement) => !String(statement.Action).startsWith('xray:'));

describe('TributaryStack', () => {
  it('has an encrypted, versioned, private stage bucket that refuses plain HTTP and expires only loaded chunks', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const rules = (
      Object.values(template.findResources('AWS::S3::Bucket'))[0] as {
        Properties: { LifecycleConfiguration: { Rules: Record<string, unknown>[] } };
      }
    ).Properties.LifecycleConfiguration.Rules;
    // The only rule that expires current objects is limited to chunks tagged loaded by the persister.
    const expiring = rules.filter((rule) => rule.ExpirationInDays !== undefined);
    expect(expiring).toEqual([
      expect.objectContaining({
        Prefix: 'stage/',
        ExpirationInDays: 30,
        TagFilters: [{ Key: 'tributary-loaded', Value: 'true' }],
      }),
    ]);
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('derives delivery from the persister timeout: visibility 6x the timeout, concurrency on the event source', () => {
    const persister = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { TRIBUTARY_FUNCTION: 'persister' } } },
      }),
    )[0] as { Properties: { Timeout: number; ReservedConcurrentExecutions?: number } };
    expect(persister.Properties.ReservedConcurrentExecutions).toBeUndefined();
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: persister.Properties.Timeout * VISIBILITY_PER_TIMEOUT,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(
      Object.values(template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true } })),
    ).toHaveLength(2);
    expect(() =>
      queueSettings({ persisterTimeout: Duration.minutes(5), maxReceiveCount: 5, persisterConcurrency: 1 }),
    ).toThrow(/persisterConcurrency: received 1\. Allowed: a whole number from 2 to 1000/);
  });

  it('has an on-demand state table keyed by tap, with point-in-time recovery and deletion protection', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'tap', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('runs a streamer function per tap and one persister, on Node 22 arm64, each with a role of its own', () => {
    const functions = resolved.functions();
    const streamers = functions.filter((fn) => fn.environment.TRIBUTARY_FUNCTION === 'streamer');
    expect(streamers.map((fn) => [fn.name, fn.environment.TRIBUTARY_TAP])).toEqual([
      ['Test-tap-github-acme', 'github-acme'],
      ['Test-tap-pagerduty', 'pagerduty'],
    ]);
    expect(functions.filter((fn) => fn.environment.TRIBUTARY_FUNCTION === 'persister')).toHaveLength(1);
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs22.x', Architectures: ['arm64'] },
      3,
    );
    expect(new Set(functions.map((fn) => fn.roleId)).size).toBe(3);
  });

  it("a tap's streamer may touch only its own chunks, state item, secrets and function: every ARN exact", () => {
    const bucket = resolved.attributeOf(resolved.logicalId('AWS::S3::Bucket', 'Stage'), 'Arn');
    const queue = resolved.attributeOf(resolved.logicalId('AWS::SQS::Queue', 'Chunks'), 'Arn');
    const table = resolved.attributeOf(resolved.logicalId('AWS::DynamoDB::Table', 'State'), 'Arn');
    const logs = resolved
      .functions()
      .find((fn) => fn.environment.TRIBUTARY_TAP === 'github-acme')?.logGroupArn;
    expect(statementsOf('Streamer-github-acmeRole'.replaceAll('-', ''))).toEqual([
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `${logs}:*`,
      },
      {
        Sid: 'StageOwnChunks',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: `${bucket}/stage/github-acme/*`,
      },
      {
        Sid: 'SpillOwnBookmarks',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        Resource: `${bucket}/state/github-acme/*`,
      },
      { Sid: 'EnqueueChunks', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue },
      {
        Sid: 'OwnTapState',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: table,
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['github-acme'] } },
      },
      {
        Sid: 'ContinueRun',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: `${account.replace('%s', 'lambda')}:function:Test-tap-github-acme`,
      },
      {
        Sid: 'ReadOwnSecrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: `${account.replace('%s', 'secretsmanager')}:secret:tributary/github-token-??????`,
      },
    ]);
  });

  it('the persister reads every chunk and only the destination secret; the event source uses its role', () => {
    const bucket = resolved.attributeOf(resolved.logicalId('AWS::S3::Bucket', 'Stage'), 'Arn');
    const queue = resolved.attributeOf(resolved.logicalId('AWS::SQS::Queue', 'Chunks'), 'Arn');
    const table = resolved.attributeOf(resolved.logicalId('AWS::DynamoDB::Table', 'State'), 'Arn');
    const statements = statementsOf('PersisterRole');
    expect(statements.map((statement) => [statement.Sid, statement.Resource])).toEqual([
      ['WriteOwnLogs', expect.stringMatching(/:log-group:PersisterLogs[0-9A-F]+:\*$/)],
      ['ReceiveChunks', queue],
      ['ReadChunks', `${bucket}/stage/*`],
      ['SpillBookmarks', `${bucket}/state/*`],
      ['TapState', table],
      ['ReadOwnSecrets', `${account.replace('%s', 'secretsmanager')}:secret:tributary/postgres-url-??????`],
    ]);
    expect(statements.flatMap((statement) => [statement.Action].flat())).not.toContain('sqs:SendMessage');
  });

  it('the scheduler role is trusted only by the Scheduler of this account and invokes only the streamers', () => {
    const scheduler = resolved.logicalId('AWS::IAM::Role', 'SchedulerRole');
    expect(resolved.trustPolicyOf(scheduler).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      },
    ]);
    expect(statementsOf('SchedulerRole').map((statement) => [statement.Sid, statement.Resource])).toEqual([
      [
        'StartRuns',
        [
          `${account.replace('%s', 'lambda')}:function:Test-tap-github-acme`,
          `${account.replace('%s', 'lambda')}:function:Test-tap-pagerduty`,
        ],
      ],
      ['DeadLetterSchedules', expect.stringMatching(/:sqs:us-east-1:123456789012:ScheduleDeadLetters/)],
    ]);
  });

  it('makes one schedule per tap, targeting that tap streamer, with retries and a dead-letter queue', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 4);
    const schedules = resolved
      .resourcesOfType('AWS::Scheduler::Schedule')
      .map(([, schedule]) => resolved.resolve(schedule.Properties) as Record<string, unknown>);
    expect(schedules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ScheduleExpression: 'rate(1 hour)',
          ScheduleExpressionTimezone: 'UTC',
          Target: expect.objectContaining({
            Arn: `${account.replace('%s', 'lambda')}:function:Test-tap-github-acme`,
            Input: '{"tap":"github-acme"}',
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
            DeadLetterConfig: { Arn: expect.stringMatching(/ScheduleDeadLetters/) },
          }),
        }),
        expect.objectContaining({
          ScheduleExpression: 'rate(15 minutes)',
          Target: expect.objectContaining({
            Arn: `${account.replace('%s', 'lambda')}:function:Test-tap-github-acme`,
            Input: '{"tap":"github-acme","sweep":true}',
          }),
        }),
        expect.objectContaining({
          ScheduleExpression: 'cron(0/15 * * * ? *)',
          ScheduleExpressionTimezone: 'Europe/Berlin',
          Target: expect.objectContaining({ Arn: expect.stringMatching(/:function:Test-tap-pagerduty$/) }),
        }),
      ]),
    );
  });

  it('alarms on both dead-letter queues and on each tap without a successful run, all notifying the alerts topic', () => {
    const alarms = resolved.resourcesOfType('AWS::CloudWatch::Alarm').map(
      ([, alarm]) =>
        resolved.resolve(alarm.Properties) as {
          AlarmActions: string[];
          Dimensions: { Name: string; Value: string }[];
          MetricName: string;
          Namespace: string;
          Period: number;
          TreatMissingData: string;
        },
    );
    const topic = resolved.refOf(resolved.logicalId('AWS::SNS::Topic', 'Alerts'));
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([topic]);
    const queues = alarms.filter((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(queues.map((alarm) => alarm.Dimensions[0]?.Value).sort()).toEqual([
      expect.stringMatching(/^ChunkDeadLetters/),
      expect.stringMatching(/^ScheduleDeadLetters/),
    ]);
    // The metric the streamer handler emits, per tap; 3 intervals of rate(1 hour), and of the widest
    // gap of cron(0/15 * * * ? *).
    const runs = alarms.filter((alarm) => alarm.MetricName === RUN_SUCCEEDED_METRIC.name);
    expect(
      runs
        .map((alarm) => [
          alarm.Namespace,
          alarm.Dimensions.find((d) => d.Name === 'Tap')?.Value,
          alarm.Period,
        ])
        .sort(),
    ).toEqual([
      [RUN_SUCCEEDED_METRIC.namespace, 'github-acme', 3 * 3600],
      [RUN_SUCCEEDED_METRIC.namespace, 'pagerduty', 3 * 900],
    ]);
    for (const alarm of runs) {
      expect(alarm.TreatMissingData).toBe('breaching');
      expect(alarm.Dimensions).toContainEqual({ Name: 'service', Value: RUN_SUCCEEDED_METRIC.service });
    }
  });

  it('alerts: in the pipeline subscribes its e-mails and notifies a topic of your own too', () => {
    const file = join(temporaryFolder(), 'pipeline.yaml');
    writeFileSync(
      file,
      `${readFileSync(example, 'utf8')}\nalerts:\n  emails: [oncall@example.com, data@example.com]\n  topic_arn: arn:aws:sns:us-east-1:123456789012:paging\n  no_success_after: 5\n`,
    );
    const withAlerts = synthStack(file).template;
    withAlerts.resourceCountIs('AWS::SNS::Subscription', 2);
    withAlerts.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    withAlerts.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: RUN_SUCCEEDED_METRIC.name,
      Period: 5 * 3600,
      AlarmActions: Match.arrayWith(['arn:aws:sns:us-east-1:123456789012:paging']),
    });
    const bad = join(temporaryFolder(), 'pipeline.yaml');
    writeFileSync(bad, `${readFileSync(example, 'utf8')}\nalerts:\n  emails: [not-an-address]\n`);
    expect(() => synthStack(bad)).toThrow(
      /alerts\.emails\.0: received "not-an-address"[\s\S]*Allowed: e-mail addresses/,
    );
  });

  it('exposes the outputs trib status and trib replay need, and a dashboard', () => {
    for (const output of [
      'StageBucketName',
      'ChunkQueueUrl',
      'DeadLetterQueueUrl',
      'StateTableName',
      'AlertsTopicArn',
      'PersisterFunctionName',
      'StreamerFunctionNamegithubacme',
      'StreamerFunctionNamepagerduty',
    ])
      template.hasOutput(output, {});
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('an ingest: section adds the ingest function behind a function URL, throttled, alarmed, on the dashboard, its URL an output', () => {
    const file = join(temporaryFolder(), 'pipeline.yaml');
    writeFileSync(
      file,
      `destination: { type: postgres, url: "\${secret:wh/url}" }
ingest: { tap: devices, keys: ["\${secret:ingest/key}"] }
`,
    );
    const withIngest = synthStack(file);
    const ingestTemplate = withIngest.template;
    ingestTemplate.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-ingest',
      Timeout: INGEST_TIMEOUT_SECONDS,
      ReservedConcurrentExecutions: 10,
      Environment: {
        Variables: Match.objectLike({ TRIBUTARY_FUNCTION: 'ingest', TRIBUTARY_TAP: 'devices' }),
      },
    });
    // No IAM or Cognito in front: the access key in each request is the authentication, as in the API it imitates.
    ingestTemplate.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    ingestTemplate.hasOutput('IngestUrl', {});
    // The ingest tap is a tap like any other: its own streamer, loaded every 5 minutes.
    ingestTemplate.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Test-tap-devices' });
    ingestTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
    });
    const alarms = Object.keys(ingestTemplate.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.some((id) => id.startsWith('IngestFailing'))).toBe(true);
    expect(alarms.some((id) => id.startsWith('IngestThrottled'))).toBe(true);
    const dashboard = JSON.stringify(ingestTemplate.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toContain('Ingest requests');
    // A write that took its name before the tap read past it lands within the timeout, inside the settle time.
    expect(INGEST_TIMEOUT_SECONDS * 1000 * 3).toBeLessThan(S3_INBOX_SETTLE_MS);
    expect(
      Annotations.fromStack(withIngest.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ).toEqual([]);
    expect(() =>
      planDeployment(
        'destination: { type: postgres, url: "${secret:u}" }\ningest: { keys: ["written-in-the-file-0123"] }\n',
        'p.yaml',
      ),
    ).toThrow(/ingest\.keys\.0: an access key written in the pipeline file/);
  });

  it("passes cdk-nag's AWS Solutions checks; suppressions are per resource, never stack-wide", () => {
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
      [],
    );
    expect(stack.templateOptions.metadata?.cdk_nag).toBeUndefined();
    const suppressed = Object.entries(
      template.toJSON().Resources as Record<
        string,
        { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }
      >,
    ).flatMap(([id, resource]) =>
      (resource.Metadata?.cdk_nag?.rules_to_suppress ?? []).map(
        (rule) => [id, rule.id, rule.reason] as const,
      ),
    );
    expect(suppressed.length).toBeGreaterThan(0);
    for (const [, , reason] of suppressed) expect(reason.length).toBeGreaterThan(40);
    // The managed-policy suppression is only for the VPC case; no role uses a managed policy here.
    expect(JSON.stringify(template.findResources('AWS::IAM::Role'))).not.toContain('ManagedPolicyArns');
  });

  it('with encryption: kms, encrypts bucket, queues, table, spilled bookmarks and alerts with a rotating key of its own', () => {
    const kms = synthStack(example, 'kms').template;
    kms.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    kms.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
      },
    });
    kms.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, KmsMasterKeyId: Match.anyValue() });
    kms.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    kms.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    kms.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TRIBUTARY_KMS_KEY_ID: Match.anyValue() }) },
    });
  });

  it("refuses a tap whose streamer function name would pass Lambda's 64 characters", () => {
    const file = join(temporaryFolder(), 'pipeline.yaml');
    writeFileSync(file, readFileSync(example, 'utf8').replaceAll('github-acme', `github-${'a'.repeat(50)}`));
    expect(() => synthStack(file)).toThrow(
      /would be named Test-tap-github-a+ \(66 characters\); Lambda allows 64/,
    );
  });
});

describe('a bad pipeline file fails synth, naming the tap and the field', () => {
  it('accepts a URL whose secret parts are ${secret:} references, and never puts their values in the plan', () => {
    const file = join(temporaryFolder(), 'pipeline.yaml');
    process.env.TRIB_TEST_PGHOST = 'db.internal';
    writeFileSync(
      file,
      readFileSync(example, 'utf8').replace(
        '"${secret:tributary/postgres-url}"',
        '"postgres://app:${secret:tributary/pg-password}@${env:TRIB_TEST_PGHOST}/wh?sslmode=require"',
      ),
    );
    const plan = planDeployment(readFileSync(file, 'utf8'), file);
    expect(plan.destinationSecrets).toEqual(['tributary/pg-password']);
    expect(plan.environment).toEqual({ TRIB_TEST_PGHOST: 'db.internal' });
  });

  const folder = temporaryFolder();
  const variant = (change: (text: string) => string) => {
    const file = join(folder, `pipeline-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, change(readFileSync(example, 'utf8')));
    return () => planDeployment(readFileSync(file, 'utf8'), file);
  };
  it.each([
    [
      'a bad schedule',
      (t: string) => t.replace('rate(1 hour)', 'every hour'),
      /taps\.github-acme\.schedule: received "every hour"/,
    ],
    [
      'an unknown streamer',
      (t: string) => t.replace('streamer: pagerduty', 'streamer: opsgenie'),
      /taps\.pagerduty\.streamer: received "opsgenie"/,
    ],
    [
      'a missing secret',
      (t: string) => t.replace('      api_token: "${secret:tributary/pagerduty-token}"\n', ''),
      /taps\.pagerduty\.config: api_token: received nothing/,
    ],
    [
      'a secret written in the file',
      (t: string) => t.replace('"${secret:tributary/github-token}"', 'ghp_plaintext123'),
      /taps\.github-acme\.config\.access_token: a secret written in the pipeline file/,
    ],
    [
      'a local DuckDB destination',
      (t: string) =>
        t.replace(
          '{ type: postgres, url: "${secret:tributary/postgres-url}" }',
          '{ type: duckdb, path: w.duckdb }',
        ),
      /destination\.type: received "duckdb"\. Allowed in AWS: postgres/,
    ],
    [
      'a Singer tap executable',
      (t: string) => t.replace('streamer: pagerduty', 'streamer: { command: tap-pagerduty }'),
      /taps\.pagerduty\.streamer: a Singer tap executable \(tap-pagerduty\) cannot be deployed: a Lambda function runs no programs but its own bundle/,
    ],
    [
      'a Singer target destination',
      (t: string) =>
        t.replace(
          '{ type: postgres, url: "${secret:tributary/postgres-url}" }',
          '{ type: singer, command: target-csv }',
        ),
      /destination\.type: received "singer"\. Allowed in AWS: postgres/,
    ],
    [
      'a password in the destination URL',
      (t: string) => t.replace('"${secret:tributary/postgres-url}"', '"postgres://app:Pa@ss@db.internal/wh"'),
      /destination\.url: the password of the URL is a secret in plain text \(written in the pipeline file/,
    ],
    [
      'a password in a query parameter of a URL from ${env:}',
      (t: string) => {
        process.env.TRIB_TEST_PGURL = 'postgres://app@db.internal/wh?sslmode=require&password=Hunter2';
        return t.replace('"${secret:tributary/postgres-url}"', '"${env:TRIB_TEST_PGURL}"');
      },
      /the query parameter password of the URL is a secret in plain text \(from \$\{env:TRIB_TEST_PGURL\}, it would be stored in the CloudFormation template/,
    ],
  ])('%s', (_name, change, message) => {
    const plan = variant(change);
    expect(plan).toThrow(PipelineConfigError);
    expect(plan).toThrow(message);
  });
});
