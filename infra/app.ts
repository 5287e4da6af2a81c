/**
 * Builds the CDK app from a pipeline file and context (`-c pipeline=FILE`, `-c encryption=kms`, …):
 * used by `cdk synth/deploy` (infra/bin/tributary.ts) and by `npm run deploy:check`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, type AppProps, Aspects, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type DeployPlan, planDeployment } from '../lib/pipeline/deploy-plan.ts';
import { PipelineConfigError } from '../lib/pipeline/load-pipeline.ts';
import { TributaryStack } from './stacks/tributary-stack.ts';

/** The pipeline file when no -c pipeline=FILE is given. */
export const DEFAULT_PIPELINE = 'pipeline.yaml';

export interface BuiltApp {
  readonly app: App;
  readonly stack: TributaryStack;
  readonly plan: DeployPlan;
  readonly pipelineFile: string;
}

export function buildApp(props: AppProps = {}): BuiltApp {
  const app = new App(props);
  const context = (name: string): string | undefined => {
    const value = app.node.tryGetContext(name);
    return value === undefined ? undefined : String(value);
  };
  const pipelineFile = resolve(context('pipeline') ?? DEFAULT_PIPELINE);
  let text: string;
  try {
    text = readFileSync(pipelineFile, 'utf8');
  } catch {
    throw new PipelineConfigError(
      `cannot read the pipeline file ${pipelineFile}: point at one with -c pipeline=FILE (e.g. -c pipeline=examples/aws-pipeline.yaml), or write ${DEFAULT_PIPELINE} (see README.md, "Deploy to AWS")`,
    );
  }
  const plan = planDeployment(text, pipelineFile);
  const env =
    process.env.CDK_DEFAULT_ACCOUNT === undefined || process.env.CDK_DEFAULT_REGION === undefined
      ? undefined
      : { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const vpcId = context('vpcId');
  // A VPC is looked up in a stack of its own account and region (-c vpcId=vpc-… needs credentials at synth).
  const vpc =
    vpcId === undefined
      ? undefined
      : ec2.Vpc.fromLookup(
          new Stack(app, 'TributaryNetworkLookup', env === undefined ? {} : { env }),
          'Vpc',
          {
            vpcId,
          },
        );
  const retention = context('chunkRetentionDays');
  const concurrency = context('persisterConcurrency');
  const stack = new TributaryStack(app, context('stackName') ?? 'Tributary', {
    pipelineFile,
    plan,
    encryption: context('encryption') === 'kms' ? 'kms' : 'managed',
    ...(retention === undefined ? {} : { chunkRetentionDays: Number(retention) }),
    ...(concurrency === undefined ? {} : { persisterConcurrency: Number(concurrency) }),
    ...(vpc === undefined ? {} : { vpc }),
    ...(env === undefined ? {} : { env }),
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { app, stack, plan, pipelineFile };
}
