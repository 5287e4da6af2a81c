/**
 * The whole pipeline in one stack, from the same pipeline file `trib run` uses: the stage bucket, the
 * chunk queue and its dead-letter queue, the state table, the streamer and persister functions, one
 * EventBridge Scheduler schedule per tap, secrets readable only by the function that needs them, a
 * dashboard and an alarm. Every function gets only the actions and resources it uses.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { DeployPlan } from '../../lib/pipeline/deploy-plan.ts';

export interface TributaryStackProps extends StackProps {
  /** The pipeline file, copied into each function bundle. */
  readonly pipelineFile: string;
  /** What the pipeline file asks for (from planDeployment). */
  readonly plan: DeployPlan;
  /** KMS (a key of the stack's own) or S3/SQS-managed keys. @default 'managed' */
  readonly encryption?: 'kms' | 'managed';
  /** Days a loaded chunk stays in the stage bucket. @default 30 */
  readonly chunkRetentionDays?: number;
  /** Deliveries before a chunk goes to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Persisters running at once (each holds a destination connection). @default 5 */
  readonly persisterConcurrency?: number;
  /** Place the functions in a VPC, for a destination inside one. */
  readonly vpc?: ec2.IVpc;
}

const STREAMER_TIMEOUT = Duration.minutes(15);
const PERSISTER_TIMEOUT = Duration.minutes(5);
const entry = (name: string) => fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url));

export class TributaryStack extends Stack {
  constructor(scope: Construct, id: string, props: TributaryStackProps) {
    super(scope, id, props);
    const key =
      props.encryption === 'kms'
        ? new kms.Key(this, 'Key', {
            enableKeyRotation: true,
            description: 'Tributary stage, queues and state',
          })
        : undefined;

    const bucket = new s3.Bucket(this, 'Stage', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      ...(key === undefined
        ? { encryption: s3.BucketEncryption.S3_MANAGED }
        : { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }),
      lifecycleRules: [
        {
          prefix: 'stage/',
          expiration: Duration.days(props.chunkRetentionDays ?? 30),
          noncurrentVersionExpiration: Duration.days(7),
        },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const queueEncryption =
      key === undefined
        ? { encryption: sqs.QueueEncryption.SQS_MANAGED }
        : { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key };
    const deadLetters = new sqs.Queue(this, 'ChunkDeadLetters', {
      fifo: true,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      ...queueEncryption,
    });
    const queue = new sqs.Queue(this, 'Chunks', {
      fifo: true,
      contentBasedDeduplication: false, // ids come from run:seq
      visibilityTimeout: PERSISTER_TIMEOUT.plus(Duration.minutes(1)),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: props.maxReceiveCount ?? 5 },
      enforceSSL: true,
      ...queueEncryption,
    });

    const table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'tap', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      ...(key === undefined
        ? { encryption: dynamodb.TableEncryption.AWS_MANAGED }
        : { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const environment = {
      ...props.plan.environment,
      TRIBUTARY_PIPELINE_FILE: '/var/task/pipeline.yaml',
      TRIBUTARY_STAGE_BUCKET: bucket.bucketName,
      TRIBUTARY_QUEUE_URL: queue.queueUrl,
      TRIBUTARY_STATE_TABLE: table.tableName,
      ...(key === undefined ? {} : { TRIBUTARY_KMS_KEY_ID: key.keyArn }),
      NODE_OPTIONS: '--enable-source-maps',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const pipelineFile = props.pipelineFile;
    const bundling: nodejs.BundlingOptions = {
      format: nodejs.OutputFormat.ESM,
      minify: true,
      sourceMap: true,
      target: 'node22',
      mainFields: ['module', 'main'],
      // Native or optional modules the functions never load in AWS (DuckDB is for local runs).
      externalModules: ['@duckdb/node-api', '@duckdb/node-bindings', 'pg-native'],
      banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_input: string, output: string) => [
          `cp ${JSON.stringify(pipelineFile)} ${JSON.stringify(`${output}/pipeline.yaml`)}`,
        ],
      },
    };
    const functionDefaults = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      environment,
      bundling,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
    };

    const streamerName = `${this.stackName}-streamer`;
    const streamer = new nodejs.NodejsFunction(this, 'Streamer', {
      ...functionDefaults,
      functionName: streamerName,
      entry: entry('streamer'),
      timeout: STREAMER_TIMEOUT,
      description: 'Runs a tap and stages its chunks',
      logGroup: new logs.LogGroup(this, 'StreamerLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    const persister = new nodejs.NodejsFunction(this, 'Persister', {
      ...functionDefaults,
      entry: entry('persister'),
      timeout: PERSISTER_TIMEOUT,
      reservedConcurrentExecutions: props.persisterConcurrency ?? 5,
      description: 'Loads staged chunks into the destination',
      logGroup: new logs.LogGroup(this, 'PersisterLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    persister.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));

    // Least privilege, written out: each statement is one thing the function does.
    streamer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StageChunks',
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects('stage/*'), bucket.arnForObjects('state/*')],
      }),
    );
    streamer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListChunks',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
    streamer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EnqueueChunks',
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
      }),
    );
    streamer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TapState',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
      }),
    );
    // The continuation: a new invocation of this same function (by name, to avoid a self-reference).
    streamer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ContinueRun',
        actions: ['lambda:InvokeFunction'],
        resources: [
          this.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: streamerName,
            arnFormat: 'arn:aws:lambda:us-east-1:123456789012:function:name' as never,
          }),
        ],
      }),
    );
    persister.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadChunks',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('stage/*'), bucket.arnForObjects('state/*')],
      }),
    );
    persister.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SpillBookmarks',
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('state/*')],
      }),
    );
    persister.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TapState',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
      }),
    );
    if (key !== undefined) {
      key.grantEncryptDecrypt(streamer);
      key.grantDecrypt(persister);
    }
    const grantSecrets = (names: readonly string[], fn: lambda.IFunction, prefix: string) => {
      for (const [index, name] of [...new Set(names)].entries()) {
        secretsmanager.Secret.fromSecretNameV2(this, `${prefix}Secret${index}`, name).grantRead(fn);
      }
    };
    grantSecrets(
      props.plan.taps.flatMap((tap) => tap.secrets),
      streamer,
      'Streamer',
    );
    grantSecrets(props.plan.destinationSecrets, persister, 'Persister');

    // One schedule per tap, with retries and a dead-letter queue for events that could not be delivered.
    const scheduleDeadLetters = new sqs.Queue(this, 'ScheduleDeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      ...queueEncryption,
    });
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'Invokes the streamer on each tap schedule',
    });
    streamer.grantInvoke(schedulerRole);
    scheduleDeadLetters.grantSendMessages(schedulerRole);
    for (const tap of props.plan.taps) {
      new scheduler.CfnSchedule(this, `Schedule-${tap.name}`, {
        description: `Sync tap ${tap.name}`,
        scheduleExpression: tap.schedule,
        scheduleExpressionTimezone: tap.timezone ?? 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: streamer.functionArn,
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify({ tap: tap.name }),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: scheduleDeadLetters.queueArn },
        },
      });
    }

    const deadLetterDepth = deadLetters.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    });
    new cloudwatch.Alarm(this, 'ChunksFailing', {
      alarmDescription:
        'A chunk failed to load repeatedly and blocks its tap: fix the cause, then `trib replay` it',
      metric: deadLetterDepth,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-tributary`,
    });
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Records loaded per tap',
        logGroupNames: [persister.logGroup.logGroupName],
        queryLines: [
          'filter ispresent(records) and ispresent(tap)',
          'stats sum(records) as records by tap, bin(1h)',
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Chunks staged vs loaded',
        left: [
          queue.metricNumberOfMessagesSent({ label: 'staged' }),
          queue.metricNumberOfMessagesDeleted({ label: 'loaded' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lag (oldest waiting chunk, seconds)',
        left: [queue.metricApproximateAgeOfOldestMessage()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: [streamer.metricErrors({ label: 'streamer' }), persister.metricErrors({ label: 'persister' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queue depth', left: [deadLetterDepth], width: 8 }),
    );

    new CfnOutput(this, 'StageBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'ChunkQueueUrl', { value: queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetters.queueUrl });
    new CfnOutput(this, 'StateTableName', { value: table.tableName });
    new CfnOutput(this, 'StreamerFunctionName', { value: streamer.functionName });
    new CfnOutput(this, 'PersisterFunctionName', { value: persister.functionName });

    suppressReviewedFindings(this);
  }
}

/** cdk-nag findings reviewed and accepted, each with its reason. */
function suppressReviewedFindings(stack: Stack): void {
  NagSuppressions.addStackSuppressions(stack, [
    {
      id: 'AwsSolutions-IAM4',
      reason:
        "AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole only allow writing the functions' own logs and ENIs.",
    },
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Object ARNs under stage/* and state/* are the chunks and spilled bookmarks the functions read and write; <function>:* covers the versions of the one function the scheduler invokes; X-Ray actions have no resource form.',
    },
    {
      id: 'AwsSolutions-S1',
      reason:
        'The stage holds transient chunks; CloudTrail data events are the place to audit access when an account needs it.',
    },
    { id: 'AwsSolutions-L1', reason: 'nodejs22.x is the runtime Tributary targets and tests against.' },
    {
      id: 'AwsSolutions-SQS3',
      reason: 'The queues without a dead-letter queue are themselves dead-letter queues.',
    },
  ]);
}
