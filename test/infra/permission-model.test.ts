/**
 * The synthesized roles evaluated with a real IAM policy evaluator against every call the stack makes
 * (infra/permissions/expected-calls.ts): nothing the functions need is denied, nothing one tap must not
 * touch is allowed, and no grant goes unused. The emulator test (permissions.test.ts) checks that this
 * model holds every call the real handlers make.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeProblems,
  evaluatePermissions,
  mayAssume,
} from '../../infra/permissions/evaluate-permissions.ts';
import { expectedCalls } from '../../infra/permissions/expected-calls.ts';
import { ResolvedTemplate, type Template } from '../../infra/permissions/resolved-template.ts';
import type { DeployPlan } from '../../lib/pipeline/deploy-plan.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { repoRoot } from '../helpers/paths.ts';
import { synthStack } from '../helpers/synth.ts';

const example = join(repoRoot, 'examples', 'aws-pipeline.yaml');

const threeTaps = () => {
  const file = join(temporaryFolder(), 'pipeline.yaml');
  writeFileSync(
    file,
    `destination: { type: postgres, url: "postgres://loader:\${secret:wh/password}@db.internal:5432/wh?sslmode=require" }
taps:
  gh-api:
    streamer: github
    schedule: rate(1 hour)
    config: { access_token: "\${secret:gh/token-a}", repositories: [acme/api], start_date: "2025-01-01T00:00:00Z" }
  gh-web:
    streamer: github
    schedule: rate(2 hours)
    config: { access_token: "\${secret:gh/token-b}", repositories: [acme/web], start_date: "2025-01-01T00:00:00Z" }
  pd:
    streamer: pagerduty
    schedule: cron(0/15 * * * ? *)
    config: { api_token: "\${secret:pd/token}", start_date: "2025-01-01T00:00:00Z" }
ingest: { tap: events, keys: ["\${secret:ingest/device-key}"] }
`,
  );
  return file;
};

function modelFor(plan: DeployPlan, template: Template) {
  const resolved = new ResolvedTemplate(template);
  const model = expectedCalls({
    template: resolved,
    tapSecrets: Object.fromEntries(plan.taps.map((tap) => [tap.name, tap.secrets])),
    tapWritableSecrets: Object.fromEntries(plan.taps.map((tap) => [tap.name, tap.writableSecrets])),
    destinationSecrets: plan.destinationSecrets,
    ingestSecrets: plan.ingest?.secrets ?? [],
  });
  return { resolved, model };
}

describe('IAM, evaluated against every call the stack makes', () => {
  it.each([
    ['the example pipeline', example, 'managed' as const],
    [
      'three taps, an ingest endpoint, PostgreSQL with a secret password, and a KMS key',
      threeTaps(),
      'kms' as const,
    ],
  ])(
    '%s: every call allowed, every cross-tap call refused, no grant unused',
    async (_name, file, encryption) => {
      const { plan, template } = synthStack(file, encryption);
      const { resolved, model } = modelFor(plan, template.toJSON() as Template);
      expect(model.allowed.length).toBeGreaterThan(30);
      expect(model.refused.length).toBeGreaterThan(5);
      // The file with an ingest: section has the ingest function's calls, and an ingest tap reading its inbox.
      const hasIngest = readFileSync(file, 'utf8').includes('ingest:');
      expect(model.allowed.some((call) => call.caller === 'ingest')).toBe(hasIngest);
      expect(
        model.allowed.some((call) => call.caller === 'streamer events' && call.action === 's3:ListBucket'),
      ).toBe(hasIngest);
      const report = await evaluatePermissions(resolved, model);
      expect(describeProblems(report)).toEqual([]);
    },
  );

  it('only the Scheduler of this account may assume the scheduler role; only Lambda the function roles', async () => {
    const { plan, template } = synthStack(example);
    const { resolved } = modelFor(plan, template.toJSON() as Template);
    const scheduler = resolved.logicalId('AWS::IAM::Role', 'SchedulerRole');
    expect(await mayAssume(resolved, scheduler, 'scheduler.amazonaws.com', resolved.account.accountId)).toBe(
      true,
    );
    expect(await mayAssume(resolved, scheduler, 'scheduler.amazonaws.com', '999999999999')).toBe(false);
    expect(await mayAssume(resolved, scheduler, 'lambda.amazonaws.com', resolved.account.accountId)).toBe(
      false,
    );
    for (const fn of resolved.functions()) {
      expect(await mayAssume(resolved, fn.roleId, 'lambda.amazonaws.com', resolved.account.accountId)).toBe(
        true,
      );
      expect(
        await mayAssume(resolved, fn.roleId, 'scheduler.amazonaws.com', resolved.account.accountId),
      ).toBe(false);
    }
  });

  it('fails when a grant is removed, naming the call that is then denied', async () => {
    const { plan, template } = synthStack(example);
    const json = structuredClone(template.toJSON()) as Template & {
      Resources: Record<
        string,
        { Type: string; Properties?: { PolicyDocument?: { Statement: { Sid?: string }[] } } }
      >;
    };
    for (const resource of Object.values(json.Resources)) {
      const document = resource.Properties?.PolicyDocument;
      if (resource.Type === 'AWS::IAM::Policy' && document !== undefined)
        document.Statement = document.Statement.filter((statement) => statement.Sid !== 'EnqueueChunks');
    }
    const { resolved, model } = modelFor(plan, json);
    const problems = describeProblems(await evaluatePermissions(resolved, model));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^DENIED {2}streamer github-acme .*sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:Chunks.*\.fifo — enqueue a staged chunk/,
        ),
        expect.stringMatching(/^DENIED {2}streamer pagerduty .*sqs:SendMessage/),
      ]),
    );
  });

  it('fails when a grant is wider than any call needs, and when a tap may touch another tap', async () => {
    const { plan, template } = synthStack(threeTaps());
    const json = structuredClone(template.toJSON()) as Template & {
      Resources: Record<
        string,
        { Type: string; Properties?: { PolicyDocument?: { Statement: Record<string, unknown>[] } } }
      >;
    };
    for (const [id, resource] of Object.entries(json.Resources)) {
      const document = resource.Properties?.PolicyDocument;
      if (
        resource.Type !== 'AWS::IAM::Policy' ||
        document === undefined ||
        !id.startsWith('StreamerghapiRole')
      )
        continue;
      for (const statement of document.Statement) {
        if (statement.Sid === 'OwnTapState') delete statement.Condition;
        if (statement.Sid === 'EnqueueChunks') statement.Action = ['sqs:SendMessage', 'sqs:PurgeQueue'];
      }
    }
    const { resolved, model } = modelFor(plan, json);
    const problems = describeProblems(await evaluatePermissions(resolved, model));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^ALLOWED but must be refused: streamer gh-api .*dynamodb:UpdateItem .*"dynamodb:LeadingKeys":\["gh-web"\]/,
        ),
        expect.stringMatching(
          /^UNUSED {2}StreamerghapiRole.* EnqueueChunks: sqs:PurgeQueue is granted but no call uses it/,
        ),
      ]),
    );
  });
});
