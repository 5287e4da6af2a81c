/**
 * The whole pipeline in one stack, from the same pipeline file `trib run` uses: the stage bucket, the
 * chunk queue and its dead-letter queue, the state table, one streamer function per tap and one
 * persister, one EventBridge Scheduler schedule per tap, alarms to an SNS topic, and a dashboard.
 *
 * Isolation: each tap's streamer has a role of its own that reads only that tap's secrets, writes only
 * `stage/<tap>/…` and `state/<tap>/…`, and touches only the tap's item in the state table. The
 * persister reads every tap's chunks and only the destination's secrets. Every statement is one thing
 * a function does; test/infra/permissions.test.ts evaluates every AWS call the handlers make against
 * these policies, and fails on a grant no call uses.
 */
import { fileURLToPath } from 'node:url';
import { ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { RUN_SUCCEEDED_METRIC } from '../../lib/aws/run-metric.ts';
import { LOADED_TAG } from '../../lib/aws/s3-stage.ts';
import type { DeployPlan } from '../../lib/pipeline/deploy-plan.ts';
import { lambdaBundling } from '../constructs/bundling.ts';
import { queueSettings } from '../constructs/queue-settings.ts';

export interface TributaryStackProps extends StackProps {
  /** The pipeline file, copied into each function bundle. */
  readonly pipelineFile: string;
  /** What the pipeline file asks for (from planDeployment). */
  readonly plan: DeployPlan;
  /** KMS (a key of the stack's own) or S3/SQS-managed keys. @default 'managed' */
  readonly encryption?: 'kms' | 'managed';
  /** Days a loaded chunk stays in the stage bucket; chunks not loaded never expire. @default 30 */
  readonly chunkRetentionDays?: number;
  /** Deliveries before a chunk goes to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Persisters running at once (each holds a destination connection); at least 2. @default 5 */
  readonly persisterConcurrency?: number;
  /** Place the functions in a VPC, for a destination inside one. */
  readonly vpc?: ec2.IVpc;
}

const STREAMER_TIMEOUT = Duration.minutes(15);
const PERSISTER_TIMEOUT = Duration.minutes(5);
/** The ingest function's timeout: well under the S3 inbox's settle time (S3_INBOX_SETTLE_MS). */
export const INGEST_TIMEOUT_SECONDS = 10;
/** Ingest functions running at once: the endpoint's throttle (beyond it Lambda answers 429). */
const INGEST_CONCURRENCY = 10;
/** How often each tap's outbox is swept for chunks staged but not sent. */
export const SWEEP_SCHEDULE = 'rate(15 minutes)';
/** Lambda function names are at most 64 characters. */
const MAX_FUNCTION_NAME = 64;
const entry = (name: string) => fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url));

/** The name of a tap's streamer function: known before the function exists, so its role can name it. */
export function streamerFunctionName(stackName: string, tap: string): string {
  return `${stackName}-tap-${tap}`;
}

export class TributaryStack extends Stack {
  constructor(scope: Construct, id: string, props: TributaryStackProps) {
    super(scope, id, props);
    for (const tap of props.plan.taps) {
      const name = streamerFunctionName(this.stackName, tap.name);
      if (name.length > MAX_FUNCTION_NAME)
        throw new Error(
          `tap ${tap.name}: its streamer function would be named ${name} (${name.length} characters); Lambda allows ${MAX_FUNCTION_NAME}. Use a shorter tap name or -c stackName=SHORTER.`,
        );
    }
    const key =
      props.encryption === 'kms'
        ? new kms.Key(this, 'Key', {
            enableKeyRotation: true,
            description: 'Tributary stage, queues, state and alerts',
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
        // Only chunks the persister tagged as loaded expire: a tap blocked for months loses nothing.
        {
          id: 'ExpireLoadedChunks',
          prefix: 'stage/',
          tagFilters: { [LOADED_TAG]: 'true' },
          expiration: Duration.days(props.chunkRetentionDays ?? 30),
        },
        // Versions left by expiry or replaced spilled bookmarks: gone after a week.
        {
          id: 'RemoveOldVersions',
          noncurrentVersionExpiration: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const queueEncryption =
      key === undefined
        ? { encryption: sqs.QueueEncryption.SQS_MANAGED }
        : { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key };
    const delivery = queueSettings({
      persisterTimeout: PERSISTER_TIMEOUT,
      maxReceiveCount: props.maxReceiveCount ?? 5,
      persisterConcurrency: props.persisterConcurrency ?? 5,
    });
    const deadLetters = new sqs.Queue(this, 'ChunkDeadLetters', {
      fifo: true,
      retentionPeriod: delivery.retention,
      enforceSSL: true,
      ...queueEncryption,
    });
    const queue = new sqs.Queue(this, 'Chunks', {
      fifo: true,
      contentBasedDeduplication: false, // ids come from run:seq
      visibilityTimeout: delivery.visibilityTimeout,
      retentionPeriod: delivery.retention,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: delivery.maxReceiveCount },
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
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const functionDefaults = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      bundling: lambdaBundling(props.pipelineFile),
      tracing: lambda.Tracing.ACTIVE,
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
    };

    /** A role that may write its own function's logs and nothing else yet. */
    const functionRole = (id: string, logGroup: logs.LogGroup, description: string) => {
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'WriteOwnLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      return role;
    };
    const secretArn = (name: string) =>
      // Secrets Manager appends a 6-character suffix to every secret's ARN.
      this.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${name}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const readSecrets = (role: iam.Role, names: readonly string[]) => {
      if (names.length === 0) return;
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadOwnSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [...new Set(names)].map(secretArn),
        }),
      );
    };
    // A rotating OAuth refresh token (Drift) is rewritten by its tap's streamer: that secret only.
    const rewriteSecrets = (role: iam.Role, names: readonly string[]) => {
      if (names.length === 0) return;
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'RewriteOwnTokenSecrets',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
          resources: [...new Set(names)].map(secretArn),
        }),
      );
    };
    const useKey = (role: iam.Role) => {
      if (key === undefined) return;
      // S3 objects and SQS messages under the stack's key: writing needs a data key, reading decrypts.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UseStackKey',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [key.keyArn],
        }),
      );
    };

    const streamers = new Map<string, nodejs.NodejsFunction>();
    for (const tap of props.plan.taps) {
      const id = `Streamer-${tap.name}`;
      const functionName = streamerFunctionName(this.stackName, tap.name);
      const logGroup = new logs.LogGroup(this, `${id}-Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const role = functionRole(id, logGroup, `Streamer of tap ${tap.name}`);
      const streamer = new nodejs.NodejsFunction(this, id, {
        ...functionDefaults,
        functionName,
        role,
        logGroup,
        entry: entry('streamer'),
        timeout: STREAMER_TIMEOUT,
        description: `Runs tap ${tap.name} and stages its chunks`,
        environment: { ...environment, TRIBUTARY_FUNCTION: 'streamer', TRIBUTARY_TAP: tap.name },
      });
      streamers.set(tap.name, streamer);
      const statements: iam.PolicyStatement[] = [
        new iam.PolicyStatement({
          sid: 'StageOwnChunks',
          // GetObject: the outbox reads staged chunks' metadata to send them again.
          actions: ['s3:PutObject', 's3:GetObject'],
          resources: [bucket.arnForObjects(`stage/${tap.name}/*`)],
        }),
        new iam.PolicyStatement({
          sid: 'SpillOwnBookmarks',
          actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          resources: [bucket.arnForObjects(`state/${tap.name}/*`)],
        }),
        new iam.PolicyStatement({
          sid: 'EnqueueChunks',
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'OwnTapState',
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [tap.name] } },
        }),
        // The continuation: a new invocation of this same function, by name (a reference would be circular).
        new iam.PolicyStatement({
          sid: 'ContinueRun',
          actions: ['lambda:InvokeFunction'],
          resources: [
            this.formatArn({
              service: 'lambda',
              resource: 'function',
              resourceName: functionName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ];
      if (tap.readsInbox)
        statements.push(
          // The ingest tap reads what the ingest function accepted, and deletes it once staged.
          new iam.PolicyStatement({
            sid: 'ListOwnInbox',
            actions: ['s3:ListBucket'],
            resources: [bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`inbox/${tap.name}/*`] } },
          }),
          new iam.PolicyStatement({
            sid: 'ReadOwnInbox',
            actions: ['s3:GetObject', 's3:DeleteObject'],
            resources: [bucket.arnForObjects(`inbox/${tap.name}/*`)],
          }),
        );
      for (const statement of statements) role.addToPolicy(statement);
      readSecrets(role, tap.secrets);
      rewriteSecrets(role, tap.writableSecrets);
      useKey(role);
      suppressFunctionFindings(
        streamer,
        role,
        `stage/${tap.name}/* and state/${tap.name}/* are this tap's own chunks and spilled bookmarks, whose keys hold run ids made at run time`,
      );
    }

    const persisterLogs = new logs.LogGroup(this, 'PersisterLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const persisterRole = functionRole('Persister', persisterLogs, 'Persister of every tap');
    const persister = new nodejs.NodejsFunction(this, 'Persister', {
      ...functionDefaults,
      functionName: `${this.stackName}-persister`,
      role: persisterRole,
      logGroup: persisterLogs,
      entry: entry('persister'),
      timeout: PERSISTER_TIMEOUT,
      description: 'Loads staged chunks into the destination',
      environment: { ...environment, TRIBUTARY_FUNCTION: 'persister' },
    });
    new lambda.EventSourceMapping(this, 'ChunkDelivery', {
      target: persister,
      eventSourceArn: queue.queueArn,
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency: delivery.maxConcurrency,
    });
    for (const statement of [
      // What Lambda's SQS event source does with the persister's role.
      new iam.PolicyStatement({
        sid: 'ReceiveChunks',
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        resources: [queue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadChunks',
        actions: ['s3:GetObject', 's3:PutObjectTagging'],
        resources: [bucket.arnForObjects('stage/*')],
      }),
      new iam.PolicyStatement({
        sid: 'SpillBookmarks',
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [bucket.arnForObjects('state/*')],
      }),
      new iam.PolicyStatement({
        sid: 'TapState',
        // GetItem reads only the ranges `trib rewind` dropped (a projection; no bookmark is read).
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: [table.tableArn],
      }),
    ])
      persisterRole.addToPolicy(statement);
    readSecrets(persisterRole, props.plan.destinationSecrets);
    useKey(persisterRole);
    suppressFunctionFindings(
      persister,
      persisterRole,
      'stage/* and state/* are the chunks and spilled bookmarks of every tap, whose keys hold run ids made at run time',
    );

    const ingestFunction =
      props.plan.ingest === undefined
        ? undefined
        : this.ingest(props.plan.ingest, {
            functionDefaults,
            environment,
            functionRole,
            readSecrets,
            bucket,
            table,
            ...(key === undefined ? {} : { key }),
          });

    // One schedule per tap, with retries and a dead-letter queue for events that could not be delivered.
    const scheduleDeadLetters = new sqs.Queue(this, 'ScheduleDeadLetters', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      ...queueEncryption,
    });
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      // Only schedules of this account may use the role (the confused-deputy guard AWS recommends).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Invokes each tap streamer on its schedule',
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StartRuns',
        actions: ['lambda:InvokeFunction'],
        resources: [...streamers.values()].map((fn) => fn.functionArn),
      }),
    );
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetterSchedules',
        actions: ['sqs:SendMessage'],
        resources: [scheduleDeadLetters.queueArn],
      }),
    );
    if (key !== undefined)
      schedulerRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UseStackKey',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [key.keyArn],
        }),
      );
    for (const tap of props.plan.taps) {
      new scheduler.CfnSchedule(this, `Schedule-${tap.name}`, {
        description: `Sync tap ${tap.name}`,
        scheduleExpression: tap.schedule,
        scheduleExpressionTimezone: tap.timezone ?? 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: streamers.get(tap.name)?.functionArn ?? '',
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify({ tap: tap.name }),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: scheduleDeadLetters.queueArn },
        },
      });
      // The outbox sweep: chunks staged but never sent (a failed send) are sent again, so a tap on a
      // daily schedule is delayed by minutes, not a day. It starts no run and reads no source.
      new scheduler.CfnSchedule(this, `Sweep-${tap.name}`, {
        description: `Send waiting chunks of tap ${tap.name} again`,
        scheduleExpression: SWEEP_SCHEDULE,
        flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 5 },
        target: {
          arn: streamers.get(tap.name)?.functionArn ?? '',
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify({ tap: tap.name, sweep: true }),
          retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 600 },
        },
      });
    }

    // Alarms notify an SNS topic: the e-mails under `alerts:` in the pipeline file are subscribed, and an
    // `alerts.topic_arn` of your own (chat, paging) is notified too.
    const alerts = new sns.Topic(this, 'Alerts', {
      displayName: 'Tributary alerts',
      enforceSSL: true,
      ...(key === undefined ? {} : { masterKey: key }),
    });
    if (key !== undefined) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
      );
    } else {
      NagSuppressions.addResourceSuppressions(alerts, [
        {
          id: 'AwsSolutions-SNS2',
          reason:
            'CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key; alarm notices carry no data. With -c encryption=kms the topic uses the stack key.',
        },
      ]);
    }
    for (const email of props.plan.alerts.emails)
      alerts.addSubscription(new subscriptions.EmailSubscription(email));
    const notifyTargets = [
      new actions.SnsAction(alerts),
      ...(props.plan.alerts.topicArn === undefined
        ? []
        : [
            new actions.SnsAction(
              sns.Topic.fromTopicArn(this, 'AlertsElsewhere', props.plan.alerts.topicArn),
            ),
          ]),
    ];
    const alarmTo = (alarm: cloudwatch.Alarm) => {
      for (const target of notifyTargets) alarm.addAlarmAction(target);
    };
    // A tap that has not finished a run for `noSuccessAfter` of its schedule intervals (failing, stuck
    // behind a dead letter, or not starting). On a new stack it alarms until the tap's first success.
    for (const tap of props.plan.taps) {
      const periodSeconds = Math.min(
        86_400,
        Math.max(300, Math.ceil((tap.intervalMs * props.plan.alerts.noSuccessAfter) / 60_000) * 60),
      );
      alarmTo(
        new cloudwatch.Alarm(this, `NoSuccess-${tap.name}`, {
          alarmDescription: `Tap ${tap.name} has not finished a run in ${props.plan.alerts.noSuccessAfter} of its schedule intervals: see trib status --aws and its function's logs (README: When something goes wrong)`,
          metric: new cloudwatch.Metric({
            namespace: RUN_SUCCEEDED_METRIC.namespace,
            metricName: RUN_SUCCEEDED_METRIC.name,
            dimensionsMap: {
              service: RUN_SUCCEEDED_METRIC.service,
              [RUN_SUCCEEDED_METRIC.tapDimension]: tap.name,
            },
            statistic: 'Sum',
            period: Duration.seconds(periodSeconds),
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
    }
    /** An alarm when a dead-letter queue holds anything, notifying the alerts topic. */
    const alarmOnDeadLetters = (id: string, dlq: sqs.Queue, alarmDescription: string) => {
      const depth = dlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      });
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmDescription,
        metric: depth,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarmTo(alarm);
      return depth;
    };
    const deadLetterDepth = alarmOnDeadLetters(
      'ChunksFailing',
      deadLetters,
      'A chunk failed to load repeatedly and blocks its tap: fix the cause, then run trib redrive TAP --aws (README: Unstick a tap)',
    );
    const scheduleDeadLetterDepth = alarmOnDeadLetters(
      'SchedulesFailing',
      scheduleDeadLetters,
      'A schedule could not start its tap streamer (after retries): the message in the schedule dead-letter queue names the tap',
    );

    if (ingestFunction !== undefined) {
      alarmTo(
        new cloudwatch.Alarm(this, 'IngestFailing', {
          alarmDescription:
            'The ingest function failed requests (clients retry and spool; nothing is lost yet): see its logs',
          metric: ingestFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 5,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      alarmTo(
        new cloudwatch.Alarm(this, 'IngestThrottled', {
          alarmDescription:
            'The ingest function is at its reserved concurrency: clients get 429s and spool. Raise ingest.max_concurrency if this is steady traffic',
          metric: ingestFunction.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-tributary`,
    });
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Records loaded per tap',
        logGroupNames: [persisterLogs.logGroupName],
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
        left: [
          ...[...streamers].map(([tap, fn]) => fn.metricErrors({ label: `streamer ${tap}` })),
          persister.metricErrors({ label: 'persister' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: [deadLetterDepth, scheduleDeadLetterDepth],
        width: 8,
      }),
    );
    if (ingestFunction !== undefined)
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Ingest requests',
          left: [
            ingestFunction.metricInvocations({ label: 'requests' }),
            ingestFunction.metricErrors({ label: 'errors' }),
            ingestFunction.metricThrottles({ label: 'throttled' }),
          ],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Ingest duration (ms)',
          left: [ingestFunction.metricDuration({ statistic: 'p99', label: 'p99' })],
          width: 12,
        }),
      );

    new CfnOutput(this, 'StageBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'ChunkQueueUrl', { value: queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetters.queueUrl });
    new CfnOutput(this, 'StateTableName', { value: table.tableName });
    new CfnOutput(this, 'AlertsTopicArn', { value: alerts.topicArn });
    new CfnOutput(this, 'PersisterFunctionName', { value: persister.functionName });
    for (const [tap, fn] of streamers)
      new CfnOutput(this, `StreamerFunctionName-${tap}`, {
        value: fn.functionName,
        description: `Streamer of tap ${tap}`,
      });

    NagSuppressions.addResourceSuppressions(bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'The stage holds transient chunks; CloudTrail data events are the place to audit access when an account needs it.',
      },
    ]);
    // cdk-nag sees that the chunk dead-letter queue is one (a redrive policy names it); this one it cannot.
    NagSuppressions.addResourceSuppressions(scheduleDeadLetters, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue, of the schedules.' },
    ]);
  }

  /**
   * The push endpoint: a function behind a function URL (the access key is the authentication, as in
   * the Initial State API), its reserved concurrency the throttle. It may write only the ingest tap's
   * inbox, read access keys and that tap's buckets in the state table, and create buckets.
   */
  private ingest(
    ingest: NonNullable<DeployPlan['ingest']>,
    shared: {
      readonly functionDefaults: Omit<nodejs.NodejsFunctionProps, 'role'>;
      readonly environment: Record<string, string>;
      readonly functionRole: (id: string, logGroup: logs.LogGroup, description: string) => iam.Role;
      readonly readSecrets: (role: iam.Role, names: readonly string[]) => void;
      readonly bucket: s3.Bucket;
      readonly table: dynamodb.Table;
      readonly key?: kms.Key;
    },
  ): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, 'IngestLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = shared.functionRole('Ingest', logGroup, `Ingest endpoint of tap ${ingest.tap}`);
    const fn = new nodejs.NodejsFunction(this, 'Ingest', {
      ...shared.functionDefaults,
      functionName: `${this.stackName}-ingest`,
      role,
      logGroup,
      entry: entry('ingest'),
      // Shorter than the inbox's settle time (a minute), so no write lands after the tap read past it.
      timeout: Duration.seconds(INGEST_TIMEOUT_SECONDS),
      memorySize: 512,
      reservedConcurrentExecutions: INGEST_CONCURRENCY,
      description: `Accepts pushed events into tap ${ingest.tap}`,
      environment: { ...shared.environment, TRIBUTARY_FUNCTION: 'ingest', TRIBUTARY_TAP: ingest.tap },
    });
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    for (const statement of [
      new iam.PolicyStatement({
        sid: 'WriteOwnInbox',
        actions: ['s3:PutObject'],
        resources: [shared.bucket.arnForObjects(`inbox/${ingest.tap}/*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadKeysAndBuckets',
        actions: ['dynamodb:GetItem'],
        resources: [shared.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': ['ingest-key#*', `ingest-bucket#${ingest.tap}#*`],
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'CreateBuckets',
        actions: ['dynamodb:PutItem'],
        resources: [shared.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`ingest-bucket#${ingest.tap}#*`] },
        },
      }),
    ])
      role.addToPolicy(statement);
    shared.readSecrets(role, ingest.secrets);
    if (shared.key !== undefined)
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UseStackKey',
          actions: ['kms:GenerateDataKey'],
          resources: [shared.key.keyArn],
        }),
      );
    suppressFunctionFindings(
      fn,
      role,
      `inbox/${ingest.tap}/* holds one object per accepted request, named at run time`,
    );
    new CfnOutput(this, 'IngestUrl', {
      value: url.url,
      description: 'Base URL of the Initial State-compatible ingest endpoint (POST <url>api/events)',
    });
    return fn;
  }
}

/** cdk-nag findings reviewed for one function and its role, each with the reason it holds. */
function suppressFunctionFindings(fn: lambda.Function, role: iam.Role, objectWildcards: string): void {
  NagSuppressions.addResourceSuppressions(fn, [
    {
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the runtime Tributary targets and tests against (Node 20 and 22 locally).',
    },
  ]);
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason: `Object-level wildcards: ${objectWildcards}. X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions, so they need "*".`,
        appliesTo: [
          { regex: '/^Resource::<Stage[0-9A-F]+\\.Arn>\\/(stage|state|inbox)\\/([a-z0-9_-]+\\/)?\\*$/' },
          'Resource::*',
        ],
      },
      {
        id: 'AwsSolutions-IAM4',
        reason:
          'In a VPC, AWSLambdaVPCAccessExecutionRole lets Lambda create and delete the network interfaces it places the function with; those EC2 actions have no resource-level form.',
        appliesTo: [
          'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
        ],
      },
    ],
    true,
  );
}
