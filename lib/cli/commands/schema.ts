import { Command } from 'commander';
import { pipelineSchema } from '../../pipeline/pipeline-schema.ts';
import { writeOut } from '../write-out.ts';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('Print the JSON Schema of the pipeline file, for editors that validate YAML.')
    .action(async () => {
      await writeOut(`${JSON.stringify(pipelineSchema, null, 2)}\n`);
    });
}
