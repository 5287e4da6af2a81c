import { Command, Option } from 'commander';
import { formatHeader, formatMessage, MESSAGE_FORMATS, type MessageFormat } from '../../protocol/writer.ts';
import {
  discoverCatalog,
  replicationMethodsFromCatalog,
  selectedFieldsFromCatalog,
  selectedStreamsFromCatalog,
} from '../../streamer/catalog.ts';
import { configFromEnvironment } from '../../streamer/config-from-env.ts';
import { findStreamer, streamerNames } from '../../streamers/index.ts';
import { readJsonFile } from '../read-json-file.ts';
import { writeOut } from '../write-out.ts';

export function tapCommand(): Command {
  return new Command('tap')
    .description('Run a streamer as a Singer tap: messages on stdout, logs on stderr.')
    .argument('<streamer>', `the streamer (${streamerNames().join(', ')})`)
    .option('--config <file>', 'config JSON file, or ENV to read TAP_<STREAMER>_<KEY> environment variables')
    .option('--state <file>', 'bookmark to resume from (the last line `trib persist` printed)')
    .option('--catalog <file>', 'Singer catalog selecting streams (from --discover)')
    .option('--discover', 'print the catalog of streams and exit')
    .addOption(new Option('--format <format>', 'message framing').choices(MESSAGE_FORMATS).default('singer'))
    .addHelpText(
      'after',
      '\nExample (pipefail: a failed load must not write an empty state; a new file, renamed, so the state is read before it is replaced):\n  set -o pipefail; trib tap sample --config c.json --state state.json | trib persist --to duckdb:warehouse.duckdb | tail -1 > state.json.new && mv state.json.new state.json',
    )
    .action(
      async (
        name: string,
        options: {
          config?: string;
          state?: string;
          catalog?: string;
          discover?: boolean;
          format: MessageFormat;
        },
      ) => {
        const streamer = findStreamer(name);
        if (options.discover === true) {
          await writeOut(`${JSON.stringify(discoverCatalog(streamer), null, 2)}\n`);
          return;
        }
        const config =
          options.config === 'ENV'
            ? configFromEnvironment(streamer)
            : options.config === undefined
              ? {}
              : await readJsonFile(options.config, '--config');
        const state = options.state === undefined ? undefined : await readJsonFile(options.state, '--state');
        if (options.state !== undefined && state === undefined) {
          // `... | tail -1 > state.json` empties the file before this process reads it; say so loudly.
          process.stderr.write(
            `trib tap: --state ${options.state} is empty, so the sync starts from the beginning. In a pipe, write the new state to another file and rename it: | tail -1 > state.json.new && mv state.json.new state.json\n`,
          );
        }
        const catalog =
          options.catalog === undefined ? undefined : await readJsonFile(options.catalog, '--catalog');
        const selected =
          catalog === undefined
            ? undefined
            : selectedStreamsFromCatalog(
                catalog,
                options.catalog ?? '',
                streamer.streams.map((stream) => stream.name),
              );
        const fields = catalog === undefined ? undefined : selectedFieldsFromCatalog(catalog);
        const methods = catalog === undefined ? undefined : replicationMethodsFromCatalog(catalog);
        await writeOut(formatHeader(options.format));
        let buffer = '';
        try {
          for await (const message of streamer.run({
            config: (config ?? {}) as Record<string, unknown>,
            state,
            ...(selected === undefined ? {} : { selectedStreams: selected }),
            ...(fields === undefined ? {} : { selectedFields: fields }),
            ...(methods === undefined ? {} : { replicationMethods: methods }),
            log: (line) => process.stderr.write(`${line}\n`),
          })) {
            buffer += formatMessage(message, options.format);
            if (buffer.length > 1 << 16) {
              await writeOut(buffer);
              buffer = '';
            }
          }
        } finally {
          // Everything produced before a failure goes out, the last STATE with it, so the target keeps it.
          await writeOut(buffer);
        }
      },
    );
}
