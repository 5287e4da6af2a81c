import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { pipelineSchema } from '../../pipeline/pipeline-schema.ts';
import type { JsonSchema } from '../../protocol/messages.ts';
import { documentedVariables } from '../../streamer/config-from-env.ts';
import { findStreamer, streamerNames } from '../../streamers/index.ts';
import { writeOut } from '../write-out.ts';

/** `trib init [--streamer NAME…]`: a commented pipeline.yaml to start from; never overwrites one. */
export function initCommand(): Command {
  return new Command('init')
    .description('Write a commented pipeline.yaml (and its JSON Schema, for editors) to start from.')
    .option('--streamer <name...>', `the streamers to add a tap for (${streamerNames().join(', ')})`, [
      'sample',
    ])
    .option('--file <path>', 'where to write it', 'pipeline.yaml')
    .action(async (options: { streamer: string[]; file: string }) => {
      if (existsSync(options.file))
        throw new Error(
          `${options.file} exists already; it is not overwritten. Give another one with --file.`,
        );
      const taps = options.streamer.map((name) => tapBlock(name));
      const text = `# yaml-language-server: $schema=./pipeline.schema.json
# A Tributary pipeline. Run it: npx trib run ${options.file}   (see README.md for every key)
destination: { type: duckdb, path: warehouse.duckdb }   # or postgres (url), singer (command), stitch (token, client_id)
taps:
${taps.join('\n')}`;
      await writeFile(options.file, text);
      if (!existsSync('pipeline.schema.json'))
        await writeFile('pipeline.schema.json', `${JSON.stringify(pipelineSchema, null, 2)}\n`);
      await writeOut(`Wrote ${options.file}. Next: npx trib run ${options.file}\n`);
    });
}

function tapBlock(name: string): string {
  const streamer = findStreamer(name);
  const properties = (streamer.configSchema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((streamer.configSchema.required ?? []) as string[]);
  const variables = documentedVariables(streamer);
  const config = Object.entries(properties)
    .filter(([key]) => required.has(key) || key === 'start_date' || key === 'repositories')
    .map(([key, property]) => {
      const value =
        property.secret === true
          ? `"\${env:${variables[key] ?? key.toUpperCase()}}"`
          : property.format === 'date-time'
            ? '"2025-01-01T00:00:00Z"'
            : property.type === 'array'
              ? '[owner/name]'
              : `"<${key}>"`;
      return `      ${key}: ${value}${typeof property.description === 'string' ? `   # ${property.description}` : ''}`;
    });
  return `  ${name}:
    streamer: ${name}   # ${streamer.description}
    schedule: rate(1 hour)   # for trib schedule and AWS; trib run runs it now
${config.length === 0 ? '    config: {}' : `    config:\n${config.join('\n')}`}
    # streams: [${streamer.streams.map((stream) => stream.name).join(', ')}]   # all when left out
`;
}
