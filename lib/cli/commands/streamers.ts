import { Command } from 'commander';
import type { JsonSchema } from '../../protocol/messages.ts';
import { documentedVariables } from '../../streamer/config-from-env.ts';
import { allStreamers, findStreamer } from '../../streamers/index.ts';
import { writeOut } from '../write-out.ts';

/** `trib streamers [NAME]`: the connectors, their streams and config keys, from their own schemas. */
export function streamersCommand(): Command {
  return new Command('streamers')
    .description(
      'List the built-in streamers with their streams and config keys (one in detail with its name).',
    )
    .argument('[name]', 'one streamer, in detail')
    .action(async (name: string | undefined) => {
      if (name === undefined) {
        const lines = allStreamers().map(
          (streamer) =>
            `${streamer.name.padEnd(10)} ${streamer.description}\n${' '.repeat(11)}streams: ${streamer.streams.map((stream) => stream.name).join(', ')}`,
        );
        await writeOut(
          `${lines.join('\n')}\n\nMore about one: trib streamers <name>. Any Singer tap too: streamer: { command: tap-foo }\n`,
        );
        return;
      }
      const streamer = findStreamer(name);
      const properties = (streamer.configSchema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((streamer.configSchema.required ?? []) as string[]);
      const variables = documentedVariables(streamer);
      const keys = Object.entries(properties).map(([key, property]) => {
        const facts = [
          required.has(key) ? 'required' : undefined,
          property.default === undefined ? undefined : `default ${JSON.stringify(property.default)}`,
          property.secret === true ? 'secret' : undefined,
          variables[key] === undefined ? undefined : `$${variables[key]}`,
        ].filter((fact) => fact !== undefined);
        return `  ${key.padEnd(24)} ${typeof property.description === 'string' ? property.description : ''}${facts.length === 0 ? '' : ` (${facts.join(', ')})`}`;
      });
      const streams = streamer.streams.map(
        (stream) =>
          `  ${stream.name.padEnd(24)} key ${stream.keyProperties.join(', ') || '(none)'}; ${stream.replicationMethod === 'INCREMENTAL' ? `incremental on ${stream.replicationKey}` : 'full table'}`,
      );
      await writeOut(
        `${streamer.name}: ${streamer.description}\n\nconfig:\n${keys.join('\n')}\n\nstreams:\n${streams.join('\n')}\n`,
      );
    });
}
