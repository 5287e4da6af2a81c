/**
 * Skipping a chunk, accepting the loss of its records: for a chunk that can never load and whose
 * records cannot be read again (the source no longer has them). Its ledger row is written with no
 * rows, so the chunks after it load; who skipped it and why is kept in the tap's state, where status
 * and `trib chunks` show it from then on. Only the next chunk to load can be skipped, so nothing
 * before it is passed over by accident.
 */
import { type ChunkRef, comparePositions, formatPosition } from '../chunks/chunk-position.ts';
import type { Destination } from '../destinations/destination.ts';
import { loadChunks } from '../persister/load-chunks.ts';
import type { ParsedMessage } from '../protocol/messages.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import { waitingChunks } from './run-protocol.ts';

export class SkipRefusedError extends Error {
  override readonly name = 'SkipRefusedError';
}

export interface SkipPorts {
  readonly stage: Stage;
  readonly stateStore: StateStore;
  readonly destination: Destination;
}

export async function skipChunk(
  ref: ChunkRef,
  ports: SkipPorts,
  note: { readonly by: string; readonly reason: string; readonly dryRun?: boolean },
): Promise<{ records: number; committedMoved: boolean }> {
  const state = await ports.stateStore.read(ref.tap);
  if (state.committed !== undefined && comparePositions(ref, state.committed) <= 0)
    throw new SkipRefusedError(
      `chunk ${formatPosition(ref)} of tap ${ref.tap} is already committed; nothing to skip.`,
    );
  const [next] = await waitingChunks(ports.stage, state);
  if (next === undefined || next.run !== ref.run || next.seq !== ref.seq)
    throw new SkipRefusedError(
      next === undefined
        ? `tap ${ref.tap} has no chunk waiting; ${formatPosition(ref)} is not on its chain (see trib chunks ${ref.tap}).`
        : `only the next chunk to load can be skipped: that is ${formatPosition(next)}, not ${formatPosition(ref)} (see trib chunks ${ref.tap}).`,
    );
  if (note.dryRun === true) return { records: next.records, committedMoved: false };
  // The bookmark after the chunk is known when it is the last one staged; otherwise the chunks after
  // it carry the bookmark forward when they load.
  const bookmark =
    state.staged !== undefined && state.staged.run === ref.run && state.staged.seq === ref.seq
      ? state.staged.bookmark
      : undefined;
  const messages = async function* (): AsyncGenerator<readonly ParsedMessage[]> {
    if (bookmark !== undefined) yield [{ line: 0, message: { type: 'STATE', value: bookmark } }];
  };
  const [outcome] = await loadChunks(
    ref.tap,
    [{ ...next, source: `${ports.stage.uriOf(next.key)} (skipped)`, messages }],
    { destination: ports.destination, stateStore: ports.stateStore },
  );
  await ports.stateStore.recordSkip(ref.tap, {
    run: ref.run,
    seq: ref.seq,
    records: next.records,
    by: note.by,
    reason: note.reason,
    at: new Date().toISOString(),
  });
  return { records: next.records, committedMoved: outcome?.bookmarkMoved === true };
}
