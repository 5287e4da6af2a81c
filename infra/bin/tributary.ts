/**
 * The CDK app: `npx cdk deploy` (or `synth`) turns a pipeline file into a stack. The file is
 * `pipeline.yaml` unless `-c pipeline=FILE` says otherwise; it is checked before anything is built.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { planDeployment } from '../../lib/pipeline/deploy-plan.ts';
import { TributaryStack } from '../stacks/tributary-stack.ts';

const app = new App();
const pipelineFile = resolve(String(app.node.tryGetContext('pipeline') ?? 'pipeline.yaml'));
let text: string;
try {
  text = readFileSync(pipelineFile, 'utf8');
} catch {
  throw new Error(
    `cannot read the pipeline file ${pipelineFile}: write one (see README.md) or point at it with -c pipeline=FILE`,
  );
}
const plan = planDeployment(text, pipelineFile);
const context = (name: string): string | undefined => {
  const value = app.node.tryGetContext(name);
  return value === undefined ? undefined : String(value);
};
const env =
  process.env.CDK_DEFAULT_ACCOUNT === undefined || process.env.CDK_DEFAULT_REGION === undefined
    ? undefined
    : { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
const vpcId = context('vpcId');
// A VPC is looked up in a stack of its own account and region (-c vpcId=vpc-… needs credentials at synth).
const vpc =
  vpcId === undefined
    ? undefined
    : ec2.Vpc.fromLookup(new Stack(app, 'TributaryNetworkLookup', env === undefined ? {} : { env }), 'Vpc', {
        vpcId,
      });
const retention = context('chunkRetentionDays');
new TributaryStack(app, context('stackName') ?? 'Tributary', {
  pipelineFile,
  plan,
  encryption: context('encryption') === 'kms' ? 'kms' : 'managed',
  ...(retention === undefined ? {} : { chunkRetentionDays: Number(retention) }),
  ...(vpc === undefined ? {} : { vpc }),
  ...(env === undefined ? {} : { env }),
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
