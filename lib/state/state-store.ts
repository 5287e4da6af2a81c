import { type ChunkPosition, comparePositions } from '../chunks/chunk-position.ts';

/** A bookmark and the chunk it closes. */
export interface BookmarkAt extends ChunkPosition {
  readonly bookmark: unknown;
  /** ISO time it was recorded. */
  readonly at: string;
}

/**
 * The right to write a tap's state for one run, held by one invocation. Every write a holder makes
 * is conditional on `token`; a newer lease has a larger token, so a holder whose token is stale is
 * refused and stops (a fencing token, as in Chubby and Kafka's producer epochs).
 */
export interface RunLease {
  /** The invocation holding it: `host:pid:start-random` locally, the request id in Lambda. */
  readonly holder: string;
  readonly token: number;
  /** The run it is for; a continuation keeps the run and takes a new token. */
  readonly run: string;
  /** Epoch milliseconds after which a new run may take the lease. */
  readonly expiresAt: number;
}

/** What `trib status` shows about the last run of a tap. */
export interface LastRun {
  readonly run: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: 'succeeded' | 'failed' | 'skipped' | 'interrupted';
  readonly records: number;
  readonly chunks: number;
  readonly error?: string;
}

export interface TapState {
  readonly tap: string;
  /** Runs started so far: run ids are numbered from it, so run order never depends on a clock. */
  readonly runs: number;
  /** The largest fencing token ever handed out. */
  readonly fence: number;
  /** The last chunk durably in the stage. */
  readonly staged?: BookmarkAt;
  /** The last chunk loaded into the destination. */
  readonly committed?: BookmarkAt;
  readonly lease?: RunLease;
  readonly lastRun?: LastRun;
  /**
   * Chunks an operator dropped (`trib rewind`, `trib reset`): those after `after` up to `through`
   * are never loaded, even when a queue still delivers them; their records are read again.
   */
  readonly dropped?: readonly DroppedChunks[];
  /** Chunks an operator skipped (`trib chunks skip --accept-data-loss`): their records were never loaded. */
  readonly skipped?: readonly SkippedChunk[];
}

export interface SkippedChunk extends ChunkPosition {
  readonly records: number;
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

export interface DroppedChunks {
  /** The committed chunk at the rewind (null: none was). */
  readonly after: ChunkPosition | null;
  /** The staged chunk at the rewind. */
  readonly through: ChunkPosition;
  readonly at: string;
}

/**
 * What decides, besides the ledger, whether a delivered chunk may load: the ranges an operator
 * dropped, and the committed position (every chunk of the tap's chain up to it is in the ledger, so
 * a chunk at or behind it that is not is an orphan).
 */
export interface LoadGuards {
  readonly dropped: readonly DroppedChunks[];
  readonly committed?: ChunkPosition;
}

/** Whether a chunk at `position` was dropped by a rewind. */
export function isDropped(state: Pick<TapState, 'dropped'>, position: ChunkPosition): boolean {
  return (state.dropped ?? []).some(
    (range) =>
      (range.after === null || comparePositions(position, range.after) > 0) &&
      comparePositions(position, range.through) <= 0,
  );
}

/** A write the store may refuse. The caller must look at it: a refused holder stops. */
export type StateWrite = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export type LeaseGrant =
  | { readonly ok: true; readonly lease: RunLease; readonly state: TapState }
  | { readonly ok: false; readonly reason: string; readonly state: TapState };

export interface NewRunRequest {
  readonly holder: string;
  readonly ttlMs: number;
  /** Makes the run id from the run's number (the store's counter + 1). */
  readonly runId: (runNumber: number) => string;
  /** A holder known to be dead (a killed local process) whose unexpired lease may be taken. */
  readonly takeOverFrom?: string;
}

export interface ContinuationRequest {
  readonly holder: string;
  readonly ttlMs: number;
  readonly run: string;
  /** The token of the invocation that handed the run over; a repeated or late event no longer matches. */
  readonly token: number;
}

/**
 * Per-tap bookmarks, run counter and fenced run lease. Every write is conditional and returns a
 * result: `staged` moves only forward and only for the current lease's token; `committed` moves only
 * forward; a lease is granted only when free or expired (a new run), or to the continuation its
 * holder handed the run to (the token matches).
 */
export interface StateStore {
  readonly description: string;
  read(tap: string): Promise<TapState>;
  beginRun(tap: string, request: NewRunRequest): Promise<LeaseGrant>;
  continueRun(tap: string, request: ContinuationRequest): Promise<LeaseGrant>;
  /** Extends the lease; refused when `token` is no longer the lease's. */
  renewLease(tap: string, token: number, ttlMs: number): Promise<StateWrite>;
  /** Refused when `token` is not the lease's, or `at` is not after `staged`. */
  markStaged(tap: string, token: number, at: BookmarkAt): Promise<StateWrite>;
  /** Refused (changing nothing) when `at` is not after `committed`. */
  markCommitted(tap: string, at: BookmarkAt): Promise<StateWrite>;
  /** Frees the lease; refused when `token` is no longer the lease's. */
  releaseLease(tap: string, token: number): Promise<StateWrite>;
  /** With a token, only while it holds the lease (a stale holder must not overwrite the truth). */
  recordLastRun(tap: string, lastRun: LastRun, token?: number): Promise<StateWrite>;
  /**
   * An operator's rewind, while `token` holds the lease and `staged` is still `expected`: the chunks
   * after `committed` are recorded as dropped and `staged` becomes `to` (the committed chunk with the
   * bookmark to resume from: the committed one, or none for a full resync; undefined when nothing
   * was ever committed).
   */
  rewind(
    tap: string,
    token: number,
    expected: ChunkPosition | undefined,
    to: BookmarkAt | undefined,
  ): Promise<StateWrite>;
  /** What the persister checks before each load, cheaply (no bookmark is fetched). */
  loadGuards(tap: string): Promise<LoadGuards>;
  /** Notes a chunk skipped by an operator (who, why), for status and reports from then on. */
  recordSkip(tap: string, skip: SkippedChunk): Promise<StateWrite>;
  /** Taps that have any state. */
  taps(): Promise<string[]>;
}

/** A state with nothing in it. */
export function emptyState(tap: string): TapState {
  return { tap, runs: 0, fence: 0 };
}

/**
 * Where a run resumes: whichever of `staged` and `committed` is further along (DESIGN.md rule 5).
 * `committed` can pass `staged` only when a chunk was loaded by hand; resuming behind it would read
 * its records again.
 */
export function resumePoint(state: TapState): BookmarkAt | undefined {
  const { staged, committed } = state;
  if (staged === undefined) return committed;
  if (committed === undefined) return staged;
  return comparePositions(committed, staged) > 0 ? committed : staged;
}

/** Whether a lease is free for a new run at `now`. */
export function leaseIsFree(lease: RunLease | undefined, now: number, takeOverFrom?: string): boolean {
  return (
    lease === undefined ||
    lease.expiresAt <= now ||
    (takeOverFrom !== undefined && lease.holder === takeOverFrom)
  );
}
