import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { BUILTIN_STEPS } from '../../steps/builtin-steps.ts';
import { stepCatalogMarkdown, withStepCatalog } from '../../steps/step-catalog.ts';
import { writeOut } from '../write-out.ts';

export function stepsCommand(): Command {
  return new Command('steps')
    .description('List the built-in pipeline steps (transforms:) and their options.')
    .option('--markdown', 'print the catalogue as the README shows it')
    .option(
      '--update-readme <file>',
      "rewrite the catalogue block of a README (the project's own: npm run docs:steps)",
    )
    .action(async (options: { markdown?: boolean; updateReadme?: string }) => {
      if (options.updateReadme !== undefined) {
        await writeFile(options.updateReadme, withStepCatalog(await readFile(options.updateReadme, 'utf8')));
        return;
      }
      if (options.markdown === true) {
        await writeOut(`${stepCatalogMarkdown()}\n`);
        return;
      }
      const lines = [...BUILTIN_STEPS.values()].map((step) => {
        const options = Object.keys((step.options.properties ?? {}) as object).join(', ');
        return `${step.name.padEnd(11)} ${step.kind.padEnd(11)} ${step.description}${options === '' ? '' : `\n${' '.repeat(24)}options: ${options}`}`;
      });
      await writeOut(
        `${lines.join('\n')}\n\nEvery step also takes streams: [glob, …]. A module of your own: use: ./steps/name.ts\n`,
      );
    });
}
