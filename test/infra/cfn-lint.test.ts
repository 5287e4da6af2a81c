/**
 * The synthesized template through AWS's own CloudFormation linter (cfn-lint), when the machine has
 * it: resource properties, ARNs, IAM policy syntax and value ranges, checked against the
 * CloudFormation resource specification rather than our reading of it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../helpers/chunks.ts';
import { repoRoot } from '../helpers/paths.ts';
import { synthStack } from '../helpers/synth.ts';

const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const available = cfnLint.status === 0;
if (!available)
  console.warn('cfn-lint is not installed here (pip install cfn-lint): the linter test is skipped');

/** W3005: CDK writes DependsOn on a function's role although a GetAtt already orders them; harmless. */
const CFN_LINT_IGNORED = ['W3005'];

describe.skipIf(!available)('cfn-lint', () => {
  it.each(['managed', 'kms'] as const)(
    'finds nothing in the example stack (encryption: %s)',
    (encryption) => {
      const file = join(temporaryFolder(), `template-${encryption}.json`);
      writeFileSync(
        file,
        JSON.stringify(
          synthStack(join(repoRoot, 'examples', 'aws-pipeline.yaml'), encryption).template.toJSON(),
        ),
      );
      const run = spawnSync('cfn-lint', ['--ignore-checks', ...CFN_LINT_IGNORED, '--', file], {
        encoding: 'utf8',
      });
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );

  it('is a real linter: it reports a broken template', () => {
    const file = join(temporaryFolder(), 'broken.json');
    const template = synthStack(join(repoRoot, 'examples', 'aws-pipeline.yaml')).template.toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    for (const resource of Object.values(template.Resources))
      if (resource.Type === 'AWS::SQS::Queue') resource.Properties.VisibilityTimeout = 99_999;
    writeFileSync(file, JSON.stringify(template));
    const run = spawnSync('cfn-lint', ['--ignore-checks', ...CFN_LINT_IGNORED, '--', file], {
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/E3034 99999 is greater than the maximum of 43200/);
  });
});
