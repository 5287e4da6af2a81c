/**
 * The state store's rules as pure functions of one tap's state: each returns the new state (or the
 * reason it refuses). The local stores apply them under a lock; the DynamoDB store writes the same
 * rules as condition expressions. test/unit/state runs both against the same cases.
 */
import { type ChunkPosition, comparePositions } from '../chunks/chunk-position.ts';
import {
  type BookmarkAt,
  type ContinuationRequest,
  type LastRun,
  leaseIsFree,
  type NewRunRequest,
  type RunLease,
  type SkippedChunk,
  type TapState,
} from './state-store.ts';

export type Transition<T = undefined> =
  | { readonly ok: true; readonly state: TapState; readonly value: T }
  | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

export function beginRun(state: TapState, request: NewRunRequest, now: number): Transition<RunLease> {
  if (!leaseIsFree(state.lease, now, request.takeOverFrom)) {
    const lease = state.lease as RunLease;
    return refuse(
      `another run holds the lease of tap ${state.tap} (${lease.holder}, run ${lease.run}, until ${new Date(lease.expiresAt).toISOString()})`,
    );
  }
  const runs = state.runs + 1;
  const lease: RunLease = {
    holder: request.holder,
    token: state.fence + 1,
    run: request.runId(runs),
    expiresAt: now + request.ttlMs,
  };
  return { ok: true, state: { ...state, runs, fence: lease.token, lease }, value: lease };
}

export function continueRun(
  state: TapState,
  request: ContinuationRequest,
  now: number,
): Transition<RunLease> {
  const current = state.lease;
  if (current === undefined || current.token !== request.token || current.run !== request.run)
    return refuse(
      `continuation of run ${request.run} with token ${request.token} is stale: ${current === undefined ? 'no run holds the lease' : `the lease is at token ${current.token} of run ${current.run}`}; a repeated or late event does nothing`,
    );
  const lease: RunLease = {
    ...current,
    holder: request.holder,
    token: state.fence + 1,
    expiresAt: now + request.ttlMs,
  };
  return { ok: true, state: { ...state, fence: lease.token, lease }, value: lease };
}

function holding(state: TapState, token: number): string | undefined {
  if (state.lease?.token === token) return undefined;
  return `token ${token} no longer holds the lease of tap ${state.tap}${state.lease === undefined ? ' (it was released)' : ` (now token ${state.lease.token}, run ${state.lease.run})`}`;
}

export function renewLease(state: TapState, token: number, ttlMs: number, now: number): Transition {
  const stale = holding(state, token);
  if (stale !== undefined || state.lease === undefined) return refuse(stale ?? 'no lease');
  return {
    ok: true,
    state: { ...state, lease: { ...state.lease, expiresAt: now + ttlMs } },
    value: undefined,
  };
}

export function markStaged(state: TapState, token: number, at: BookmarkAt): Transition {
  const stale = holding(state, token);
  if (stale !== undefined) return refuse(stale);
  if (state.staged !== undefined && comparePositions(at, state.staged) <= 0)
    return refuse(
      `chunk ${at.run}/${at.seq} is not after the staged chunk ${state.staged.run}/${state.staged.seq}`,
    );
  return { ok: true, state: { ...state, staged: at }, value: undefined };
}

export function markCommitted(state: TapState, at: BookmarkAt): Transition {
  if (state.committed !== undefined && comparePositions(at, state.committed) <= 0)
    return refuse(
      `chunk ${at.run}/${at.seq} is not after the committed chunk ${state.committed.run}/${state.committed.seq}`,
    );
  return { ok: true, state: { ...state, committed: at }, value: undefined };
}

export function releaseLease(state: TapState, token: number): Transition {
  const stale = holding(state, token);
  if (stale !== undefined) return refuse(stale);
  const { lease: _released, ...rest } = state;
  return { ok: true, state: rest, value: undefined };
}

export function recordLastRun(state: TapState, lastRun: LastRun, token?: number): Transition {
  const stale = token === undefined ? undefined : holding(state, token);
  if (stale !== undefined) return refuse(stale);
  return { ok: true, state: { ...state, lastRun }, value: undefined };
}

export function rewind(
  state: TapState,
  token: number,
  expected: ChunkPosition | undefined,
  to: BookmarkAt | undefined,
  now: number,
): Transition {
  const stale = holding(state, token);
  if (stale !== undefined) return refuse(stale);
  if (!samePosition(state.staged, expected))
    return refuse(
      `the staged chunk moved while rewinding (expected ${describe(expected)}, found ${describe(state.staged)})`,
    );
  if (!samePosition(to, state.committed))
    return refuse(`a rewind goes to the committed chunk ${describe(state.committed)}, not ${describe(to)}`);
  const { staged: _dropped, ...rest } = state;
  const beyond =
    state.staged !== undefined &&
    (state.committed === undefined || comparePositions(state.staged, state.committed) > 0);
  const dropped =
    beyond && state.staged !== undefined
      ? [
          ...(state.dropped ?? []),
          {
            after:
              state.committed === undefined ? null : { run: state.committed.run, seq: state.committed.seq },
            through: { run: state.staged.run, seq: state.staged.seq },
            at: new Date(now).toISOString(),
          },
        ]
      : state.dropped;
  return {
    ok: true,
    state: {
      ...rest,
      ...(to === undefined ? {} : { staged: to }),
      ...(dropped === undefined ? {} : { dropped }),
    },
    value: undefined,
  };
}

function samePosition(a: ChunkPosition | undefined, b: ChunkPosition | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.run === b.run && a.seq === b.seq;
}

function describe(position: ChunkPosition | undefined): string {
  return position === undefined ? 'none' : `${position.run}/${position.seq}`;
}

export function recordSkip(state: TapState, skip: SkippedChunk): Transition {
  return { ok: true, state: { ...state, skipped: [...(state.skipped ?? []), skip] }, value: undefined };
}

/** Reads a stored state, filling what older files lack. */
export function normaliseState(tap: string, stored: Partial<TapState> | undefined): TapState {
  return { ...stored, tap, runs: stored?.runs ?? 0, fence: stored?.fence ?? 0 };
}
