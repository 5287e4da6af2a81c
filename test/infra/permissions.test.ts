/**
 * IAM checked against what the code really does, not against what we think it does: the real
 * handlers run a two-tap pipeline end to end against the emulators (S3, SQS, DynamoDB), fake source
 * APIs and wire-level fakes of Secrets Manager and Lambda Invoke, with every SDK call recorded per
 * function. Each recorded call is then evaluated with a real IAM policy evaluator against the role
 * that function has in the stack synthesized from the same pipeline file. A call that would be
 * denied fails; so does a call the model (expected-calls.ts) does not list, and a modelled call our
 * handlers never make (a grant no test exercises).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import { createPersisterHandler } from '../../functions/persister/handler.ts';
import { createStreamerHandler } from '../../functions/streamer/handler.ts';
import { describeProblems, evaluateCall } from '../../infra/permissions/evaluate-permissions.ts';
import { type AwsCall, expectedCalls } from '../../infra/permissions/expected-calls.ts';
import { ResolvedTemplate, type Template } from '../../infra/permissions/resolved-template.ts';
import { DynamoAccessKeys } from '../../lib/aws/dynamo-ingest-registry.ts';
import { type AwsSettings, runtimeProvider } from '../../lib/aws/runtime.ts';
import type { StreamerEvent } from '../../lib/pipeline/streamer-invocation.ts';
import { DriftApi } from '../fakes/drift-api.ts';
import { GithubApi } from '../fakes/github-api.ts';
import { LambdaApi } from '../fakes/lambda-api.ts';
import { PagerdutyApi } from '../fakes/pagerduty-api.ts';
import { SecretsManagerApi } from '../fakes/secrets-manager-api.ts';
import { lambdaContext, serverlessResources, sqsEvent } from '../helpers/aws.ts';
import { iamCallsOf, matchesModel, type RecordedSdkCall, recordInto } from '../helpers/aws-calls.ts';
import { isolatedPostgres } from '../helpers/postgres.ts';
import { synthStack } from '../helpers/synth.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'ERROR'; // the handlers' info lines would bury the test's output
const github = new GithubApi();
const pagerduty = new PagerdutyApi(40);
const secrets = new SecretsManagerApi();
const drift = new DriftApi(30);
const lambda = new LambdaApi();
const postgres = isolatedPostgres('iam');

beforeAll(async () => {
  await Promise.all([github.start(), pagerduty.start(), secrets.start(), lambda.start(), drift.start()]);
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.endpoint;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.endpoint;
  secrets.secrets.set('tributary/github-token', github.token);
  secrets.secrets.set('tributary/pagerduty-token', pagerduty.token);
  secrets.secrets.set('tributary/postgres-url', postgres.url);
  secrets.secrets.set('tributary/drift-client-secret', drift.clientSecret);
  secrets.secrets.set('tributary/drift-refresh-token', drift.refreshToken);
  secrets.secrets.set('tributary/ingest-key', INGEST_KEY);
});
const INGEST_KEY = 'device-key-from-secrets-manager-0001';
afterAll(async () => {
  await Promise.all([github.stop(), pagerduty.stop(), secrets.stop(), lambda.stop(), drift.stop()]);
  await postgres.dropSchemas();
});

const pipeline = () => `
destination: { type: postgres, url: "\${secret:tributary/postgres-url}" }
taps:
  github-acme:
    streamer: github
    schedule: rate(1 hour)
    config:
      access_token: "\${secret:tributary/github-token}"
      repositories: [acme/api]
      start_date: "2024-01-01T00:00:00Z"
      base_url: ${github.baseUrl}
    streams: [commits, issues, releases]
    chunk: { max_records: 20 }
  pagerduty:
    streamer: pagerduty
    schedule: cron(0/15 * * * ? *)
    config:
      api_token: "\${secret:tributary/pagerduty-token}"
      start_date: "2025-01-01T00:00:00Z"
      base_url: ${pagerduty.baseUrl}
    chunk: { max_records: 20 }
  drift:
    streamer: drift
    schedule: rate(1 hour)
    config:
      client_id: ${drift.clientId}
      client_secret: "\${secret:tributary/drift-client-secret}"
      refresh_token_secret: tributary/drift-refresh-token
      base_url: ${drift.baseUrl}
    streams: [conversations, users, accounts]
    chunk: { max_records: 5 }
  events:
    streamer: ingest
    schedule: rate(5 minutes)
    config: { settle_seconds: 0 }
    chunk: { max_records: 5 }
ingest: { tap: events, keys: ["\${secret:tributary/ingest-key}"] }
`;

describe('every AWS call the handlers make is allowed by the role the stack gives that function', () => {
  it('two taps, continuations, spilled bookmarks, the persister, a second run: no call denied, none unmodelled, none unused', async () => {
    const resources = await serverlessResources(() => pipeline());
    const { template, plan } = synthStack(resources.pipelineFile, 'managed', 'Tributary');
    const json = template.toJSON() as Template;
    const bare = new ResolvedTemplate(json);
    // The emulators' names stand in for what CloudFormation would name the bucket, queue and table.
    const resolved = new ResolvedTemplate(json, bare.account, {
      [bare.logicalId('AWS::S3::Bucket', 'Stage')]: resources.bucket,
      [bare.logicalId('AWS::SQS::Queue', 'Chunks')]: resources.queueUrl.split('/').at(-1) ?? '',
      [bare.logicalId('AWS::DynamoDB::Table', 'State')]: resources.table,
    });
    const functions = resolved.functions();
    const recorded: { who: { roleId: string; caller: string }; calls: RecordedSdkCall[] }[] = [];
    const runtimeFor = (role: AwsSettings['role']) => {
      const fn = functions.find(
        (f) =>
          f.environment.TRIBUTARY_FUNCTION === role.kind &&
          (role.kind === 'persister' || f.environment.TRIBUTARY_TAP === role.tap),
      );
      if (fn === undefined) throw new Error(`no function for ${JSON.stringify(role)}`);
      const calls: RecordedSdkCall[] = [];
      recorded.push({
        who: {
          roleId: fn.roleId,
          caller: role.kind === 'streamer' ? `streamer ${role.tap}` : role.kind,
        },
        calls,
      });
      return runtimeProvider({
        ...resources,
        role,
        ...(role.kind === 'streamer' ? { functionName: fn.name } : {}),
        // Every bookmark spills to S3, so the spill path's calls are made and checked too.
        inlineBookmarkBytes: 64,
        onClient: recordInto(calls),
      });
    };
    const streamers = new Map(
      plan.taps.map((tap) => [
        `Tributary-tap-${tap.name}`,
        createStreamerHandler(runtimeFor({ kind: 'streamer', tap: tap.name })),
      ]),
    );
    const persister = createPersisterHandler(runtimeFor({ kind: 'persister' }));
    const ingestRuntime = runtimeFor({ kind: 'ingest', tap: 'events' });
    const ingest = createIngestHandler(ingestRuntime);
    // A key made as `trib ingest keys create --aws` makes it: hashed in the state table.
    const stored = await new DynamoAccessKeys(new DynamoDBClient({}), resources.table).create(
      'events',
      'permission test',
    );
    const push = async (key: string, bucketKey: string, body: unknown) => {
      const event = (path: string, payload: unknown) => ({
        rawPath: path,
        rawQueryString: '',
        headers: { 'x-is-accesskey': key, 'x-is-bucketkey': bucketKey, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        requestContext: { http: { method: 'POST' } },
      });
      const created = await ingest(
        event('/api/buckets', { bucketKey, bucketName: bucketKey }),
        lambdaContext(() => 10_000),
      );
      expect([201, 204]).toContain(created.statusCode);
      const sent = await ingest(
        event('/api/events', body),
        lambdaContext(() => 10_000),
      );
      expect(sent.statusCode, sent.body).toBe(204);
    };

    /**
     * The Scheduler's event, then Lambda's async queue delivering each continuation. `budgetMs` is what
     * each invocation has beyond the 60 s kept for staging: 1 ms hands off after a page, whatever the
     * machine's speed, so the number of invocations does not grow on a slow one.
     */
    const runTap = async (tap: string, budgetMs: (invocation: number) => number) => {
      const pending: { functionName: string; payload: unknown }[] = [
        { functionName: `Tributary-tap-${tap}`, payload: { tap } },
      ];
      for (let invocations = 0; pending.length > 0; invocations += 1) {
        expect(invocations).toBeLessThan(1_000); // a bound against a loop
        const next = pending.shift();
        const handler = streamers.get(next?.functionName ?? '');
        if (next === undefined || handler === undefined) throw new Error(`no streamer ${next?.functionName}`);
        const started = Date.now();
        const budget = budgetMs(invocations);
        await handler(
          next.payload as StreamerEvent,
          lambdaContext(() => 60_000 + budget - (Date.now() - started)),
        );
        pending.push(...lambda.take());
      }
    };
    const everyPage = () => 1;
    const firstPageThenAll = (invocation: number) => (invocation === 0 ? 1 : 600_000);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const drain = async () => {
      for (let round = 0; round < 100; round += 1) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, MaxNumberOfMessages: 10 }),
        );
        const messages = (received.Messages ?? []).map((m) => ({
          receipt: m.ReceiptHandle ?? '',
          body: m.Body ?? '',
        }));
        if (messages.length === 0) return;
        const result = await persister(
          sqsEvent(messages),
          lambdaContext(() => 300_000),
        );
        expect(result.batchItemFailures).toEqual([]);
        for (const message of messages)
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: resources.queueUrl, ReceiptHandle: message.receipt }),
          );
      }
    };

    for (const round of [1, 2]) {
      if (round === 2) github.addCommit?.('acme/api');
      await runTap('github-acme', everyPage);
      await runTap('pagerduty', firstPageThenAll); // its windows are many: one hand-off is enough
      // Rotates its refresh token (PutSecretValue on its own secret), and hands off.
      await runTap('drift', everyPage);
      await push(INGEST_KEY, 'line_1', [
        { key: 'count', value: round, epoch: 1_764_000_000 + round },
        { key: 'label', value: `round ${round}` },
      ]);
      await push(
        stored.plain,
        `line_${round + 1}`,
        Array.from({ length: 7 }, (_, index) => ({ key: 'n', value: index })),
      );
      await runTap('events', everyPage); // hands off between inbox entries
      await drain();
    }

    const model = expectedCalls({
      template: resolved,
      tapSecrets: Object.fromEntries(plan.taps.map((tap) => [tap.name, tap.secrets])),
      tapWritableSecrets: Object.fromEntries(plan.taps.map((tap) => [tap.name, tap.writableSecrets])),
      destinationSecrets: plan.destinationSecrets,
      ingestSecrets: plan.ingest?.secrets ?? [],
    });
    const made: AwsCall[] = recorded.flatMap(({ who, calls }) =>
      calls.flatMap((call) => iamCallsOf(call, resolved.account, who)),
    );
    expect(made.length).toBeGreaterThan(100);
    const kinds = new Set(made.map((call) => `${call.caller} ${call.action}`));
    for (const expected of [
      'streamer github-acme lambda:InvokeFunction',
      'streamer github-acme s3:DeleteObject',
      'persister s3:PutObjectTagging',
      'persister secretsmanager:GetSecretValue',
      'streamer pagerduty secretsmanager:GetSecretValue',
      'streamer drift secretsmanager:PutSecretValue',
      'ingest s3:PutObject',
      'ingest dynamodb:PutItem',
      'ingest dynamodb:GetItem',
      'ingest secretsmanager:GetSecretValue',
      'streamer events s3:ListBucket',
      'streamer events s3:DeleteObject',
    ])
      expect(kinds, `the run made no ${expected} call: the scenario must exercise it`).toContain(expected);

    // 1. Every call the code made is allowed for its function's role.
    const distinct = [...new Map(made.map((call) => [JSON.stringify(call), call])).values()];
    const verdicts = await Promise.all(distinct.map((call) => evaluateCall(resolved, call)));
    expect(
      describeProblems({ denied: verdicts.filter((v) => !v.allowed), leaked: [], unused: [], evaluated: 0 }),
    ).toEqual([]);
    // 2. Every call the code made is in the model that deploy:check evaluates for any pipeline.
    const unmodelled = distinct.filter(
      (call) => !model.allowed.some((modelled) => matchesModel(call, modelled)),
    );
    expect(
      unmodelled.map(
        (call) => `${call.caller}: ${call.action} ${call.resource} ${JSON.stringify(call.context ?? {})}`,
      ),
    ).toEqual([]);
    // 3. Every call the model says our handlers make was made: no grant stands on a guess.
    const unexercised = model.allowed
      .filter((modelled) => modelled.by === 'handler')
      .filter((modelled) => !distinct.some((call) => matchesModel(call, modelled)));
    expect(
      unexercised.map((call) => `${call.caller}: ${call.action} ${call.resource} — ${call.why}`),
    ).toEqual([]);
    writeFileSync(join(resources.folder, 'calls.json'), JSON.stringify(distinct, null, 2));
    // The rotated refresh token is in the secret (the one Drift accepts now), and every later invocation
    // used the stored access token instead of refreshing (the first refresh token no longer works).
    expect(JSON.parse(secrets.secrets.get('tributary/drift-refresh-token') ?? '{}').refresh_token).toBe(
      drift.refreshToken,
    );
    expect(drift.refreshes).toBe(1);
    // Every pushed event is a row, once, though the second run re-listed the inbox.
    const rows = await postgres.query(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM "${postgres.prefix}_events".events`,
    );
    expect(rows).toEqual([{ n: 18, ids: 18 }]);
    // Secrets are read once per container (max age 5 minutes), not once per invocation.
    expect(secrets.requests.filter((name) => name === 'tributary/github-token')).toHaveLength(1);
    expect(secrets.requests.filter((name) => name === 'tributary/postgres-url')).toHaveLength(1);
    // A tap's function runs only its tap: an event for another is refused before anything is read.
    await expect(
      streamers.get('Tributary-tap-github-acme')?.(
        { tap: 'pagerduty' },
        lambdaContext(() => 600_000),
      ),
    ).rejects.toThrow(/this function runs tap github-acme; the event names tap "pagerduty"/);
  });
});
