import type { ChunkPosition } from '../chunks/chunk-position.ts';

/** A bookmark and the chunk it closes. */
export interface BookmarkAt extends ChunkPosition {
  readonly bookmark: unknown;
  /** ISO time it was recorded. */
  readonly at: string;
}

export interface RunLease {
  readonly owner: string;
  /** Epoch milliseconds after which another run may take the lease. */
  readonly expiresAt: number;
}

/** What `trib status` shows about the last run of a tap. */
export interface LastRun {
  readonly run: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: 'succeeded' | 'failed';
  readonly records: number;
  readonly chunks: number;
  readonly error?: string;
}

export interface TapState {
  readonly tap: string;
  /** The last chunk durably in the stage. The next run starts from here when set. */
  readonly staged?: BookmarkAt;
  /** The last chunk loaded into the destination. */
  readonly committed?: BookmarkAt;
  readonly lease?: RunLease;
  readonly lastRun?: LastRun;
}

/**
 * Per-tap bookmarks and run lease. Every move is conditional: `staged` and `committed` only move
 * forward in (run, seq) order, and a lease is taken only when free, expired or already ours.
 */
export interface StateStore {
  readonly description: string;
  read(tap: string): Promise<TapState>;
  /** Returns false (and changes nothing) when `at` is not after the current `staged`. */
  markStaged(tap: string, at: BookmarkAt): Promise<boolean>;
  /** Returns false (and changes nothing) when `at` is not after the current `committed`. */
  markCommitted(tap: string, at: BookmarkAt): Promise<boolean>;
  /**
   * Takes the lease when free, expired or already `owner`'s; with `takeOverFrom`, also when that
   * (known dead) owner still holds it.
   */
  acquireLease(tap: string, owner: string, ttlMs: number, takeOverFrom?: string): Promise<boolean>;
  releaseLease(tap: string, owner: string): Promise<void>;
  recordLastRun(tap: string, lastRun: LastRun): Promise<void>;
  /** Taps that have any state. */
  taps(): Promise<string[]>;
}

/** The bookmark a new run starts from: staged when set, else committed (DESIGN.md rule 5). */
export function startingBookmark(state: TapState): BookmarkAt | undefined {
  return state.staged ?? state.committed;
}
