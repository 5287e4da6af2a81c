/**
 * What `trib persist` and `persist-stitch` do with a message stream: load it in transactions that end
 * at a STATE, and print each committed bookmark on stdout (once per distinct bookmark), so that
 * `| tail -1` is the next run's bookmark file, as with Stitch's persisters.
 */
import type { Destination } from '../destinations/destination.ts';
import { persistStream } from '../persister/persist-stream.ts';
import { plural } from '../pipeline/describe-bookmark.ts';
import { stringifyExact } from '../protocol/exact-json.ts';
import { parseMessageBatches } from '../protocol/parser.ts';
import { writeOut } from './write-out.ts';

export async function persistAndPrint(
  command: string,
  input: AsyncIterable<Buffer | string>,
  options: {
    readonly destination: Destination;
    readonly tap: string;
    readonly commitEvery?: number | undefined;
    readonly source: string;
  },
): Promise<void> {
  let printed: string | undefined;
  const result = await persistStream(parseMessageBatches(input, { source: options.source }), {
    destination: options.destination,
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
    `${command}: ${plural(result.records, 'record')} in ${plural(result.commits, 'commit')} into ${options.destination.description}\n`,
  );
}
