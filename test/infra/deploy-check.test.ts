/** `npm run deploy:check`, as a user runs it before `cdk deploy`. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.ts';

const deployCheck = (...args: string[]) =>
  spawnSync('npm', ['run', '-s', 'deploy:check', '--', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
  });

describe('npm run deploy:check', () => {
  it('synthesizes the example, runs every check and prints what would be created and who reads which secret', () => {
    const run = deployCheck('-c', 'pipeline=examples/aws-pipeline.yaml', '-c', 'encryption=kms');
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('synth + cdk-nag (AWS Solutions): ok');
    expect(run.stdout).toMatch(/IAM: \d+ calls evaluated .*: ok, and no grant unused/);
    expect(run.stdout).toMatch(/cfn-lint: (ok|not installed here)/);
    expect(run.stdout).toContain(
      'function Tributary-tap-github-acme: streamer of tap github-acme, rate(1 hour)',
    );
    expect(run.stdout).toContain('    reads secrets: tributary/github-token');
    expect(run.stdout).toContain('function Tributary-persister: persister of every tap');
    expect(run.stdout).toContain('    reads secrets: tributary/postgres-url');
    expect(run.stdout).toContain('No problems');
  }, 120_000);

  it('fails with the pipeline error, not a stack trace, for a file that is not there', () => {
    const run = deployCheck('-c', 'pipeline=missing.yaml');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^PipelineConfigError: cannot read the pipeline file .*missing\.yaml: point at one with -c pipeline=FILE/m,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
