import { Command, Option } from 'commander';
import { openDestination, parseDestinationSpec } from '../../destinations/open-destination.ts';
import { persistStream } from '../../persister/persist-stream.ts';
import { plural } from '../../pipeline/describe-bookmark.ts';
import { stringifyExact } from '../../protocol/exact-json.ts';
import { parseMessages } from '../../protocol/parser.ts';
import { writeOut } from '../write-out.ts';

export function persistCommand(): Command {
  return new Command('persist')
    .description(
      'Load Singer or Stitch Streams messages from stdin; print each committed bookmark on stdout.',
    )
    .requiredOption(
      '--to <destination>',
      'duckdb:FILE or postgres://user@host/db (e.g. duckdb:warehouse.duckdb)',
    )
    .option('--tap <name>', 'schema for the tables, and the name in the ledger', 'singer')
    .addOption(
      new Option(
        '--undeclared-properties <what>',
        'properties a schema does not declare: keep them in a _tributary_extra JSON column, or drop them',
      )
        .choices(['keep', 'drop'])
        .default('keep'),
    )
    .option(
      '--commit-every <records>',
      'commit at the first STATE after this many records',
      (value) => positiveInteger(value, '--commit-every'),
      100_000,
    )
    .addHelpText(
      'after',
      '\nExample (pipefail: a failed load must not write an empty state; a new file, renamed, so the state is read before it is replaced):\n  set -o pipefail; trib tap sample --config c.json --state state.json | trib persist --to duckdb:warehouse.duckdb | tail -1 > state.json.new && mv state.json.new state.json',
    )
    .action(
      async (options: {
        to: string;
        tap: string;
        commitEvery: number;
        undeclaredProperties: 'keep' | 'drop';
      }) => {
        const destination = await openDestination({
          ...parseDestinationSpec(options.to),
          undeclared_properties: options.undeclaredProperties,
        });
        try {
          let printed: string | undefined;
          const result = await persistStream(parseMessages(process.stdin, { source: 'stdin' }), {
            destination,
            tap: options.tap,
            commitEvery: options.commitEvery,
            onCommit: async (outcome) => {
              if (!outcome.hadState) return;
              const line = stringifyExact(outcome.bookmark);
              if (line !== printed) await writeOut(`${line}\n`);
              printed = line;
            },
          });
          process.stderr.write(
            `trib persist: ${plural(result.records, 'record')} in ${plural(result.commits, 'commit')} into ${destination.description}\n`,
          );
        } finally {
          await destination.close();
        }
      },
    );
}

export function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`${flag}: received ${JSON.stringify(value)}; expected a whole number of at least 1`);
  return parsed;
}
