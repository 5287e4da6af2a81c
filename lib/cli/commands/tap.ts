import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { formatHeader, formatMessage, MESSAGE_FORMATS, type MessageFormat } from '../../protocol/writer.ts';
import {
  discoverCatalog,
  replicationMethodsFromCatalog,
  selectedFieldsFromCatalog,
  selectedStreamsFromCatalog,
} from '../../streamer/catalog.ts';
import { configFromEnvironment, documentedVariables } from '../../streamer/config-from-env.ts';
import { allStreamers, findStreamer, streamerNames } from '../../streamers/index.ts';
import { InputFileError, readJsonFile, readLastJsonLine } from '../read-json-file.ts';
import { writeOut } from '../write-out.ts';

export function tapCommand(): Command {
  return new Command('tap')
    .description('Run a streamer as a Singer tap: messages on stdout, logs on stderr.')
    .argument('<streamer>', `the streamer (${streamerNames().join(', ')})`)
    .argument(
      '[bookmark-file]',
      'a file whose last line is the bookmark to resume from (what `tail -1` of the persister wrote)',
    )
    .option(
      '--config <file>',
      "config JSON file; without it, the streamer's variables below (and TAP_<STREAMER>_<KEY>) are read",
    )
    .option('--state <file>', 'bookmark to resume from: a Singer state JSON file')
    .option('--catalog <file>', 'Singer catalog selecting streams (from --discover)')
    .option('--discover', 'print the catalog of streams and exit')
    .addOption(new Option('--format <format>', 'message framing').choices(MESSAGE_FORMATS).default('singer'))
    .addHelpText(
      'after',
      `\nExample (pipefail: a failed load must not write an empty state; a new file, renamed, so the state is read before it is replaced):\n  set -o pipefail; trib tap sample --config c.json --state state.json | trib persist --to duckdb:warehouse.duckdb | tail -1 > state.json.new && mv state.json.new state.json\n\nThe Stitch Streams way, config from the environment and the bookmark file as an argument:\n  GITHUB_ACCESS_TOKEN=… GITHUB_REPO_PATH=owner/repo trib tap github bookmark.txt | persist-stitch | tail -1 > bookmark.new && mv bookmark.new bookmark.txt\n\nEnvironment variables of each streamer (TAP_<STREAMER>_<KEY> works for every key too):\n${environmentHelp()}`,
    )
    .action(
      async (
        name: string,
        bookmarkFile: string | undefined,
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
          options.config === 'ENV' || options.config === undefined
            ? configFromEnvironment(streamer)
            : await readJsonFile(options.config, '--config');
        if (bookmarkFile !== undefined && options.state !== undefined)
          throw new InputFileError(
            `give the bookmark once: as --state ${options.state} or as the file ${bookmarkFile}, not both`,
          );
        const stateFile = options.state ?? bookmarkFile;
        const state =
          options.state !== undefined
            ? await readJsonFile(options.state, '--state', true)
            : bookmarkFile === undefined
              ? undefined
              : await readLastJsonLine(bookmarkFile);
        if (stateFile !== undefined && state === undefined) {
          // `... | tail -1 > state.json` empties the file before this process reads it; say so loudly.
          process.stderr.write(
            existsSync(stateFile)
              ? `trib tap: ${stateFile} is empty, so the sync starts from the beginning. In a pipe, write the new state to another file and rename it: | tail -1 > state.json.new && mv state.json.new state.json\n`
              : `trib tap: ${stateFile} does not exist yet, so the sync starts from the beginning (a first run)\n`,
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

function environmentHelp(): string {
  return allStreamers()
    .map((streamer) => {
      const variables = Object.entries(documentedVariables(streamer));
      return `  ${streamer.name}: ${variables.length === 0 ? '(none)' : variables.map(([key, name]) => `${name} (${key})`).join(', ')}`;
    })
    .join('\n');
}
