import { Command } from 'commander';
import { pipelineReference } from '../../pipeline/pipeline-reference.ts';
import { pipelineSchema } from '../../pipeline/pipeline-schema.ts';
import { writeOut } from '../write-out.ts';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('Print the JSON Schema of the pipeline file, for editors that validate YAML.')
    .option('--markdown', 'print the pipeline file reference instead (docs/pipeline-reference.md)')
    .action(async (options: { markdown?: boolean }) => {
      await writeOut(
        options.markdown === true
          ? `${pipelineReference()}\n`
          : `${JSON.stringify(pipelineSchema, null, 2)}\n`,
      );
    });
}
