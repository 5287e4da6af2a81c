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
  /** The input's messages, a batch at a time (parseMessageBatches). */
  batches: AsyncIterable<readonly ParsedMessage[]>,
  options: PersistStreamOptions,
): Promise<PersistStreamResult> {
  const run = streamRunId();
  const commitEvery = options.commitEvery ?? options.destination.commitEvery ?? 100_000;
  const checks = new RecordChecks();
  const iterator = batches[Symbol.asyncIterator]();
  const schemas = new Map<string, ParsedMessage>();
  // Messages read and not yet loaded: the rest of a batch that a commit ended inside.
  let unread: readonly ParsedMessage[] = [];
  let ended = false;
  const more = async (): Promise<boolean> => {
    while (unread.length === 0 && !ended) {
      const next = await iterator.next();
      if (next.done === true) ended = true;
      else unread = next.value;
    }
    return unread.length > 0;
  };
  let seq = 0;
  let records = 0;
  while (await more()) {
    let hadState = false;
    const position: ChunkPosition = { run, seq };
    // Each transaction re-declares the streams seen so far: a transaction knows only what it is told.
    async function* transactionMessages(): AsyncGenerator<readonly ParsedMessage[]> {
      if (schemas.size > 0) yield [...schemas.values()];
      let inTransaction = 0;
      while (await more()) {
        const batch = unread;
        let end = batch.length;
        let commit = false;
        for (let index = 0; index < batch.length && !commit; index += 1) {
          const current = batch[index] as ParsedMessage;
          const { message } = current;
          if (message.type === 'SCHEMA') schemas.set(message.stream, current);
          else if (message.type === 'RECORD') inTransaction += 1;
          else if (message.type === 'STATE') {
            hadState = true;
            commit = inTransaction >= commitEvery;
            if (commit) end = index + 1;
          }
        }
        unread = end === batch.length ? [] : batch.slice(end);
        yield end === batch.length ? batch : batch.slice(0, end);
        if (commit) return;
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
