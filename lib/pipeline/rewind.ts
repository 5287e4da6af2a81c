/**
 * Operator rewinds. `rewind` drops the chunks staged after the committed bookmark (a corrupt or lost
 * chunk, a bad deploy) and makes the next run resume from the committed bookmark; `reset` also
 * forgets the bookmark, so the next run reads everything again. Both hold the tap's lease while they
 * work (so no run stages meanwhile, and a run that held it is fenced out), and record the dropped
 * range in the state, so a queue that still delivers a dropped chunk never loads it.
 *
 * The committed bookmark can lag the destination: a load commits, then the process dies before it
 * records the bookmark. Dropping that chunk would make the next run read its records again, so when
 * the destination is at hand its ledger is asked first, and the committed bookmark moves up to the
 * last chunk it holds (before the rewind, and once more after it, for a load that committed meanwhile).
 */
import { hostname, userInfo } from 'node:os';
import { parseChunkKey, runPrefix } from '../chunks/chunk-key.ts';
import { comparePositions, formatPosition } from '../chunks/chunk-position.ts';
import { newRunId } from '../chunks/run-id.ts';
import type { Destination, LedgerEntry } from '../destinations/destination.ts';
import type { Stage } from '../stage/stage.ts';
import { type BookmarkAt, isDropped, type StateStore, type TapState } from '../state/state-store.ts';

export interface RewindPorts {
  readonly stage: Stage;
  readonly stateStore: StateStore;
  /** The tap's destination, whose ledger says what is loaded; without it the state's word is taken. */
  readonly destination?: Pick<Destination, 'ledger'>;
}

export interface RewindPlan {
  readonly tap: string;
  /** Where the next run resumes: the committed chunk, or the start. */
  readonly from: string;
  /** Chunks staged after the committed bookmark that are dropped (their records are read again). */
  readonly dropped: readonly string[];
  /** Whether the bookmark itself is forgotten (a reset: everything is read again). */
  readonly forgetsBookmark: boolean;
  /** The last chunk in the destination's ledger when it is after the committed bookmark (kept, not dropped). */
  readonly loadedAfterCommitted?: string;
  /** Whether the destination's ledger was asked (it is not from a machine without the destination). */
  readonly ledgerChecked: boolean;
}

export class RewindRefusedError extends Error {
  override readonly name = 'RewindRefusedError';
}

/** What a rewind (or reset) of the tap would drop, from its state and stage. */
export async function planRewind(
  tap: string,
  ports: RewindPorts,
  forgetBookmark: boolean,
): Promise<RewindPlan> {
  const state = await ports.stateStore.read(tap);
  const loaded = await lastLoaded(state, ports, new Date().toISOString());
  const seen = loaded === undefined ? state : { ...state, committed: loaded };
  return planOf(seen, await ports.stage.list(runPrefix(tap)), forgetBookmark, ports, loaded);
}

/** The last chunk of the destination's ledger, when it is after the state's committed chunk. */
async function lastLoaded(state: TapState, ports: RewindPorts, at: string): Promise<BookmarkAt | undefined> {
  if (ports.destination === undefined) return undefined;
  let last: LedgerEntry | undefined;
  for (const entry of await ports.destination.ledger(state.tap))
    if (last === undefined || comparePositions(entry, last) > 0) last = entry;
  if (last === undefined || (state.committed !== undefined && comparePositions(last, state.committed) <= 0))
    return undefined;
  return { run: last.run, seq: last.seq, bookmark: last.bookmark, at };
}

/**
 * Moves the committed bookmark up to the ledger's last chunk when it is behind, and returns the
 * state after. The write is refused only when the bookmark is already there or further (a persister
 * recorded it meanwhile): the state read after it says where, either way.
 */
async function catchUpCommitted(
  state: TapState,
  loaded: BookmarkAt | undefined,
  ports: RewindPorts,
): Promise<TapState> {
  if (loaded === undefined) return state;
  await ports.stateStore.markCommitted(state.tap, loaded);
  return ports.stateStore.read(state.tap);
}

function planOf(
  state: TapState,
  keys: readonly string[],
  forgetBookmark: boolean,
  ports: RewindPorts,
  loadedAfterCommitted?: BookmarkAt,
): RewindPlan {
  const dropped = keys.filter((key) => {
    const ref = parseChunkKey(key);
    return (
      ref.tap === state.tap &&
      (state.committed === undefined || comparePositions(ref, state.committed) > 0) &&
      !isDropped(state, ref)
    );
  });
  return {
    tap: state.tap,
    from:
      state.committed === undefined
        ? 'the start (nothing was ever committed)'
        : `${forgetBookmark ? 'the start (the bookmark is forgotten)' : `the committed bookmark (chunk ${formatPosition(state.committed)})`}`,
    dropped,
    forgetsBookmark: forgetBookmark,
    ...(loadedAfterCommitted === undefined
      ? {}
      : { loadedAfterCommitted: formatPosition(loadedAfterCommitted) }),
    ledgerChecked: ports.destination !== undefined,
  };
}

/** Rewinds (or resets) the tap; refused while a live run holds its lease. */
export async function rewindTap(
  tap: string,
  ports: RewindPorts,
  forgetBookmark: boolean,
  options: { readonly clock?: () => number; readonly by?: string } = {},
): Promise<RewindPlan> {
  const clock = options.clock ?? Date.now;
  const by =
    options.by ?? `trib ${forgetBookmark ? 'reset' : 'rewind'} by ${userInfo().username}@${hostname()}`;
  const grant = await ports.stateStore.beginRun(tap, { holder: by, ttlMs: 15 * 60_000, runId: newRunId });
  if (!grant.ok)
    throw new RewindRefusedError(
      `tap ${tap}: ${grant.reason}. A run is under way; let it finish (or its lease expire), then try again.`,
    );
  const token = grant.lease.token;
  try {
    const at = () => new Date(clock()).toISOString();
    const loaded = await lastLoaded(grant.state, ports, at());
    const state = await catchUpCommitted(grant.state, loaded, ports);
    const plan = planOf(state, await ports.stage.list(runPrefix(tap)), forgetBookmark, ports, loaded);
    const to =
      state.committed === undefined
        ? undefined
        : {
            run: state.committed.run,
            seq: state.committed.seq,
            bookmark: forgetBookmark ? undefined : state.committed.bookmark,
            at: at(),
          };
    const written = await ports.stateStore.rewind(tap, token, state.staged, to);
    if (!written.ok) throw new RewindRefusedError(`tap ${tap}: the rewind was refused: ${written.reason}`);
    // A persister may have committed a waiting chunk while this ran: the bookmark follows it (forward only).
    const after = await ports.stateStore.read(tap);
    await catchUpCommitted(after, await lastLoaded(after, ports, at()), ports);
    return plan;
  } finally {
    await ports.stateStore.releaseLease(tap, token);
  }
}
