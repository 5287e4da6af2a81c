/**
 * The CDK app: `npx cdk deploy` (or `synth`) turns a pipeline file into a stack. The file is
 * `pipeline.yaml` unless `-c pipeline=FILE` says otherwise; it is checked before anything is built.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
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
const encryption = app.node.tryGetContext('encryption') === 'kms' ? 'kms' : 'managed';
new TributaryStack(app, String(app.node.tryGetContext('stackName') ?? 'Tributary'), {
  pipelineFile,
  plan,
  encryption,
  ...(process.env.CDK_DEFAULT_ACCOUNT === undefined || process.env.CDK_DEFAULT_REGION === undefined
    ? {}
    : { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }),
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
