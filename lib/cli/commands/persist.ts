import { Command, Option } from 'commander';
import { openDestination, parseDestinationSpec } from '../../destinations/open-destination.ts';
import { persistAndPrint } from '../persist-and-print.ts';

export function persistCommand(): Command {
  return new Command('persist')
    .description(
      'Load Singer or Stitch Streams messages from stdin; print each committed bookmark on stdout.',
    )
    .requiredOption(
      '--to <destination>',
      'duckdb:FILE, postgres://user@host/db, or stitch (STITCH_TOKEN, STITCH_CLIENT_ID; STITCH_API_URL for another endpoint)',
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
      'commit at the first STATE after this many records (default: 500,000 into DuckDB, 100,000 into others)',
      (value) => positiveInteger(value, '--commit-every'),
    )
    .addHelpText(
      'after',
      '\nExample (pipefail: a failed load must not write an empty state; a new file, renamed, so the state is read before it is replaced):\n  set -o pipefail; trib tap sample --config c.json --state state.json | trib persist --to duckdb:warehouse.duckdb | tail -1 > state.json.new && mv state.json.new state.json',
    )
    .action(
      async (options: {
        to: string;
        tap: string;
        commitEvery?: number;
        undeclaredProperties: 'keep' | 'drop';
      }) => {
        const spec = parseDestinationSpec(options.to);
        const destination = await openDestination(
          spec.type === 'stitch' ? spec : { ...spec, undeclared_properties: options.undeclaredProperties },
          { log: (line) => process.stderr.write(`${line}\n`) },
        );
        try {
          await persistAndPrint('trib persist', process.stdin, {
            destination,
            tap: options.tap,
            commitEvery: options.commitEvery,
            source: 'stdin',
          });
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
