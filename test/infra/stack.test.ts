/** The stack as CloudFormation sees it: resources, their key settings, IAM per function, schedules. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { TributaryStack } from '../../infra/stacks/tributary-stack.ts';
import { planDeployment } from '../../lib/pipeline/deploy-plan.ts';
import { PipelineConfigError } from '../../lib/pipeline/load-pipeline.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { repoRoot } from '../helpers/paths.ts';

const example = join(repoRoot, 'examples', 'aws-pipeline.yaml');

function synth(pipelineFile = example, encryption: 'kms' | 'managed' = 'managed') {
  // Bundling is skipped here; `cdk synth` in the test command bundles for real.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TributaryStack(app, 'Test', {
    pipelineFile,
    plan: planDeployment(readFileSync(pipelineFile, 'utf8'), pipelineFile),
    encryption,
  });
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth();
const policyOf = (logicalIdPrefix: string) => {
  const policies = template.findResources('AWS::IAM::Policy');
  const entry = Object.entries(policies).find(([id]) => id.startsWith(logicalIdPrefix));
  return (
    (
      entry?.[1] as
        | {
            Properties: { PolicyDocument: { Statement: Array<{ Sid?: string; Action: string | string[] }> } };
          }
        | undefined
    )?.Properties.PolicyDocument.Statement ?? []
  );
};

describe('TributaryStack', () => {
  it('has an encrypted, versioned, private stage bucket that refuses plain HTTP and expires chunks', () => {
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
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'stage/', ExpirationInDays: 30 })]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has a FIFO chunk queue with a FIFO dead-letter queue, encryption, and a visibility timeout above the persister timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: 360,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    expect(
      Object.values(template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true } })),
    ).toHaveLength(2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
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

  it('runs both functions on Node 22 arm64; the persister has reserved concurrency and reports partial batch failures', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs22.x', Architectures: ['arm64'] },
      2,
    );
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900, FunctionName: 'Test-streamer' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      ReservedConcurrentExecutions: 5,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives each function only what it uses', () => {
    const streamer = policyOf('StreamerServiceRoleDefaultPolicy');
    const persister = policyOf('PersisterServiceRoleDefaultPolicy');
    const sids = (statements: typeof streamer) =>
      statements.map((statement) => statement.Sid).filter(Boolean);
    expect(sids(streamer)).toEqual(
      expect.arrayContaining(['StageChunks', 'ListChunks', 'EnqueueChunks', 'TapState', 'ContinueRun']),
    );
    expect(sids(persister)).toEqual(expect.arrayContaining(['ReadChunks', 'SpillBookmarks', 'TapState']));
    const actions = (statements: typeof streamer) =>
      statements.flatMap((statement) => [statement.Action].flat());
    expect(actions(streamer)).not.toContain('sqs:ReceiveMessage');
    expect(actions(persister)).not.toContain('sqs:SendMessage');
    expect(actions(persister)).not.toContain('lambda:InvokeFunction');
    for (const action of [...actions(streamer), ...actions(persister)]) expect(action).not.toMatch(/\*$/);
    // secrets: the tap tokens to the streamer, the database URL to the persister
    const secretResources = (statements: Array<{ Action: string | string[]; Resource?: unknown }>) =>
      JSON.stringify(
        statements.filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue')),
      );
    expect(secretResources(streamer)).toContain('tributary/github-token');
    expect(secretResources(streamer)).not.toContain('tributary/postgres-url');
    expect(secretResources(persister)).toContain('tributary/postgres-url');
    expect(secretResources(persister)).not.toContain('tributary/github-token');
  });

  it('makes one schedule per tap with its expression, time zone, retries and a dead-letter queue', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      Target: Match.objectLike({
        Input: '{"tap":"github-acme"}',
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: Match.anyValue(),
      }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0/15 * * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
  });

  it('exposes the outputs trib status and trib replay need, and a dashboard', () => {
    for (const output of [
      'StageBucketName',
      'ChunkQueueUrl',
      'DeadLetterQueueUrl',
      'StateTableName',
      'StreamerFunctionName',
      'PersisterFunctionName',
    ])
      template.hasOutput(output, {});
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it("passes cdk-nag's AWS Solutions checks, every remaining finding suppressed with a reason", () => {
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
      [],
    );
  });

  it('with encryption: kms, encrypts bucket, queues and table with a rotating key of its own', () => {
    const kms = synth(example, 'kms').template;
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
