/**
 * `npm run deploy:check -- -c pipeline=FILE [-c encryption=kms] [-c stackName=NAME]`: the rehearsal
 * before `cdk deploy`. Synthesizes the stack (bundling the functions for real), runs cdk-nag, evaluates
 * every call the stack makes against its roles with an IAM policy evaluator, lints the template with
 * cfn-lint when it is installed, and prints what would be created. Exits 1 on any finding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildApp } from '../app.ts';
import { describeProblems, evaluatePermissions } from '../permissions/evaluate-permissions.ts';
import { expectedCalls } from '../permissions/expected-calls.ts';
import { ResolvedTemplate, type Template } from '../permissions/resolved-template.ts';

const program = new Command('deploy:check')
  .description(
    'Rehearse `cdk deploy`: synth, cdk-nag, the IAM permission check, cfn-lint, and what would be created.',
  )
  .option(
    '-c, --context <key=value>',
    'CDK context, as for cdk deploy (pipeline=FILE, encryption=kms, stackName=NAME, persisterConcurrency=N, chunkRetentionDays=N)',
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .addHelpText(
    'after',
    '\nExample:\n  npm run deploy:check -- -c pipeline=examples/aws-pipeline.yaml -c encryption=kms\n',
  )
  .parse();

const context: Record<string, string> = {};
for (const pair of program.opts<{ context: string[] }>().context) {
  const equals = pair.indexOf('=');
  if (equals < 1) {
    console.error(`-c ${pair}: expected key=value, e.g. -c pipeline=examples/aws-pipeline.yaml`);
    process.exit(2);
  }
  context[pair.slice(0, equals)] = pair.slice(equals + 1);
}

const problems: string[] = [];
let built: ReturnType<typeof buildApp>;
try {
  built = buildApp({ context, outdir: mkdtempSync(join(tmpdir(), 'tributary-deploy-check-')) });
} catch (error) {
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exit(1);
}
const { app, stack, plan, pipelineFile } = built;
console.log(`deploy check of ${pipelineFile} as stack ${stack.stackName}\n`);
const assembly = app.synth();
const artifact = assembly.getStackArtifact(stack.artifactId);
const nag = artifact.messages.filter((message) => message.level === 'error');
for (const message of nag) problems.push(`cdk-nag: ${message.id}: ${String(message.entry.data)}`);
console.log(`synth + cdk-nag (AWS Solutions): ${nag.length === 0 ? 'ok' : `${nag.length} finding(s)`}`);

const template = new ResolvedTemplate(artifact.template as Template);
const model = expectedCalls({
  template,
  tapSecrets: Object.fromEntries(plan.taps.map((tap) => [tap.name, tap.secrets])),
  tapWritableSecrets: Object.fromEntries(plan.taps.map((tap) => [tap.name, tap.writableSecrets])),
  destinationSecrets: plan.destinationSecrets,
  ingestSecrets: plan.ingest?.secrets ?? [],
});
const report = await evaluatePermissions(template, model);
const iam = describeProblems(report);
problems.push(...iam.map((line) => `IAM: ${line}`));
console.log(
  `IAM: ${report.evaluated} calls evaluated (${model.allowed.length} must be allowed, ${model.refused.length} refused): ${iam.length === 0 ? 'ok, and no grant unused' : `${iam.length} problem(s)`}`,
);

const templateFile = join(assembly.directory, artifact.templateFile);
const lint = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', templateFile], { encoding: 'utf8' });
if (lint.error !== undefined) {
  console.log('cfn-lint: not installed here, skipped (pip install cfn-lint to run it)');
} else {
  const findings = lint.stdout.trim();
  if (lint.status !== 0) problems.push(`cfn-lint:\n${findings}`);
  console.log(`cfn-lint: ${lint.status === 0 ? 'ok' : 'findings below'}`);
}

const functions = template.functions();
console.log('\nWould create:');
for (const fn of functions) {
  const tap = fn.environment.TRIBUTARY_TAP;
  const secrets =
    tap === undefined ? plan.destinationSecrets : (plan.taps.find((t) => t.name === tap)?.secrets ?? []);
  const schedule = plan.taps.find((t) => t.name === tap);
  console.log(
    `  function ${fn.name}: ${tap === undefined ? 'persister of every tap' : `streamer of tap ${tap}, ${schedule?.schedule}${schedule?.timezone === undefined ? '' : ` (${schedule.timezone})`}`}`,
  );
  console.log(`    reads secrets: ${secrets.length === 0 ? '(none)' : secrets.join(', ')}`);
}
console.log('  stage bucket (loaded chunks expire; others are kept), FIFO chunk queue + dead-letter queue,');
console.log('  state table, schedule dead-letter queue, alerts topic with 2 alarms, dashboard');
console.log(
  `  outputs: ${Object.keys((artifact.template as { Outputs?: object }).Outputs ?? {}).join(', ')}`,
);

if (problems.length > 0) {
  console.log(`\n${problems.length} problem(s):`);
  for (const problem of problems) console.log(`  ${problem}`);
  process.exit(1);
}
console.log('\nNo problems: `npx cdk deploy` with the same -c options deploys this stack.');
