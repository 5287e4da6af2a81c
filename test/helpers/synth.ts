/** The stack for a pipeline file, synthesized in-process (bundling skipped: `cdk synth` bundles for real). */
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TributaryStack } from '../../infra/stacks/tributary-stack.ts';
import { type DeployPlan, planDeployment } from '../../lib/pipeline/deploy-plan.ts';

export function synthStack(
  pipelineFile: string,
  encryption: 'kms' | 'managed' = 'managed',
  stackName = 'Test',
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const plan: DeployPlan = planDeployment(readFileSync(pipelineFile, 'utf8'), pipelineFile);
  const stack = new TributaryStack(app, stackName, { pipelineFile, plan, encryption });
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  return { stack, plan, template: Template.fromStack(stack) };
}
