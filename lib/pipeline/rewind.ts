/**
 * Operator rewinds. `rewind` drops the chunks staged after the committed bookmark (a corrupt or lost
 * chunk, a bad deploy) and makes the next run resume from the committed bookmark; `reset` also
 * forgets the bookmark, so the next run reads everything again. Both hold the tap's lease while they
 * work (so no run stages meanwhile, and a run that held it is fenced out), and record the dropped
 * range in the state, so a queue that still delivers a dropped chunk never loads it.
 */
import { hostname, userInfo } from 'node:os';
import { parseChunkKey, runPrefix } from '../chunks/chunk-key.ts';
import { comparePositions, formatPosition } from '../chunks/chunk-position.ts';
import { newRunId } from '../chunks/run-id.ts';
import type { Stage } from '../stage/stage.ts';
import { isDropped, type StateStore, type TapState } from '../state/state-store.ts';

export interface RewindPlan {
  readonly tap: string;
  /** Where the next run resumes: the committed chunk, or the start. */
  readonly from: string;
  /** Chunks staged after the committed bookmark that are dropped (their records are read again). */
  readonly dropped: readonly string[];
  /** Whether the bookmark itself is forgotten (a reset: everything is read again). */
  readonly forgetsBookmark: boolean;
}

export class RewindRefusedError extends Error {
  override readonly name = 'RewindRefusedError';
}

/** What a rewind (or reset) of the tap would drop, from its state and stage. */
export async function planRewind(
  tap: string,
  ports: { stage: Stage; stateStore: StateStore },
  forgetBookmark: boolean,
): Promise<RewindPlan> {
  const state = await ports.stateStore.read(tap);
  return planOf(state, await ports.stage.list(runPrefix(tap)), forgetBookmark);
}

function planOf(state: TapState, keys: readonly string[], forgetBookmark: boolean): RewindPlan {
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
  };
}

/** Rewinds (or resets) the tap; refused while a live run holds its lease. */
export async function rewindTap(
  tap: string,
  ports: { stage: Stage; stateStore: StateStore },
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
    const state = grant.state;
    const plan = planOf(state, await ports.stage.list(runPrefix(tap)), forgetBookmark);
    const to =
      state.committed === undefined
        ? undefined
        : {
            run: state.committed.run,
            seq: state.committed.seq,
            bookmark: forgetBookmark ? undefined : state.committed.bookmark,
            at: new Date(clock()).toISOString(),
          };
    const written = await ports.stateStore.rewind(tap, token, state.staged, to);
    if (!written.ok) throw new RewindRefusedError(`tap ${tap}: the rewind was refused: ${written.reason}`);
    return plan;
  } finally {
    await ports.stateStore.releaseLease(tap, token);
  }
}
