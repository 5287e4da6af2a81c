import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { readPipelineTests, runPipelineTest } from '../../pipeline/pipeline-tests.ts';
import { writeOut } from '../write-out.ts';

export function testCommand(): Command {
  return new Command('test')
    .description("Run the tests of a pipeline's steps: records in, the records and counts expected out.")
    .argument('<pipeline>', 'pipeline YAML file')
    .option(
      '--tests <file>',
      'the tests (default: the pipeline file with .test.yaml, e.g. pipeline.test.yaml)',
    )
    .addHelpText(
      'after',
      '\nA tests file:\n  tests:\n    - name: refunds are dropped\n      tap: shop\n      stream: orders\n      input: [{ id: 1, status: paid }, { id: 2, status: refunded }]\n      expect: { records: [{ id: 1, status: paid }], quarantined: 0 }\n',
    )
    .action(async (file: string, options: { tests?: string }) => {
      const testsFile = options.tests ?? file.replace(/\.ya?ml$/, '.test.yaml');
      if (!existsSync(testsFile))
        throw new Error(
          `${testsFile}: no such file; write the tests there, or name the file with --tests (see trib test --help)`,
        );
      const pipeline = await loadPipeline(file);
      let failed = 0;
      const tests = await readPipelineTests(testsFile);
      for (const test of tests) {
        const outcome = await runPipelineTest(pipeline, test);
        if (!outcome.passed) failed += 1;
        await writeOut(
          `${outcome.passed ? 'ok  ' : 'FAIL'} ${outcome.name}\n${outcome.diff.map((line) => `       ${line}\n`).join('')}`,
        );
      }
      await writeOut(`\n${tests.length - failed} passed, ${failed} failed\n`);
      if (failed > 0) process.exitCode = 1;
    });
}
