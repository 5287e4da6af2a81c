/**
 * The Singer target side of `trib persist`: messages on stdin, loaded in transactions that each end
 * at a STATE. After each commit the bookmark is handed to `onCommit` (printed on stdout, so that
 * `| tail -1 > state.json` keeps the last committed bookmark, as with Stitch's persisters).
 */
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import { streamRunId } from '../chunks/run-id.ts';
import type { Destination } from '../destinations/destination.ts';
import type { ParsedMessage } from '../protocol/messages.ts';
import { type ChunkOutcome, loadChunks } from './load-chunks.ts';
import { RecordChecks } from './record-check.ts';

export interface PersistStreamOptions {
  readonly destination: Destination;
  /** Names the schema the tables go in and the ledger rows. */
  readonly tap: string;
  /** Commit at the first STATE after this many records. @default the destination's, else 100_000 */
  readonly commitEvery?: number | undefined;
  readonly onCommit?: (outcome: ChunkOutcome & { readonly hadState: boolean }) => void | Promise<void>;
}

export interface PersistStreamResult {
  readonly run: string;
  readonly commits: number;
  readonly records: number;
}

export async function persistStream(
  messages: AsyncIterable<ParsedMessage>,
  options: PersistStreamOptions,
): Promise<PersistStreamResult> {
  const run = streamRunId();
  const commitEvery = options.commitEvery ?? options.destination.commitEvery ?? 100_000;
  const checks = new RecordChecks();
  const iterator = messages[Symbol.asyncIterator]();
  const schemas = new Map<string, ParsedMessage>();
  let lookahead = await iterator.next();
  let seq = 0;
  let records = 0;
  while (lookahead.done !== true) {
    let hadState = false;
    const position: ChunkPosition = { run, seq };
    // Each transaction re-declares the streams seen so far: a transaction knows only what it is told.
    async function* transactionMessages(): AsyncGenerator<ParsedMessage> {
      yield* schemas.values();
      let inTransaction = 0;
      while (lookahead.done !== true) {
        const current = lookahead.value;
        lookahead = await iterator.next();
        if (current.message.type === 'SCHEMA') schemas.set(current.message.stream, current);
        yield current;
        if (current.message.type === 'RECORD') inTransaction += 1;
        if (current.message.type === 'STATE') {
          hadState = true;
          if (inTransaction >= commitEvery) return;
        }
      }
    }
    const [outcome] = await loadChunks(
      options.tap,
      [
        {
          tap: options.tap,
          ...position,
          previous: 'unchained',
          source: 'stdin',
          messages: transactionMessages,
        },
      ],
      { destination: options.destination, checks },
    );
    if (outcome === undefined) break;
    records += outcome.records;
    seq += 1;
    await options.onCommit?.({ ...outcome, hadState });
  }
  return { run, commits: seq, records };
}
