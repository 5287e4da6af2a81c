/**
 * A StateStore made from the pure rules in state-transitions.ts and a place that can read and write
 * one tap's state while holding a lock on it (memory, a file). Every change is one read-modify-write
 * under that lock, so two writers never both win.
 */
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import type {
  BookmarkAt,
  ContinuationRequest,
  LastRun,
  LeaseGrant,
  LoadGuards,
  NewRunRequest,
  RunLease,
  SkippedChunk,
  StateStore,
  StateWrite,
  TapState,
} from './state-store.ts';
import * as rules from './state-transitions.ts';

export interface LockedStates {
  readonly description: string;
  /** Runs `change` with the tap's current state while no other writer can change it. */
  update<T>(tap: string, change: (state: TapState) => { state?: TapState; result: T }): Promise<T>;
  read(tap: string): Promise<TapState>;
  taps(): Promise<string[]>;
}

export class TransitionStateStore implements StateStore {
  readonly description: string;

  constructor(
    private readonly states: LockedStates,
    private readonly clock: () => number = Date.now,
  ) {
    this.description = states.description;
  }

  read(tap: string): Promise<TapState> {
    return this.states.read(tap);
  }

  taps(): Promise<string[]> {
    return this.states.taps();
  }

  beginRun(tap: string, request: NewRunRequest): Promise<LeaseGrant> {
    return this.grant(tap, (state) => rules.beginRun(state, request, this.clock()));
  }

  continueRun(tap: string, request: ContinuationRequest): Promise<LeaseGrant> {
    return this.grant(tap, (state) => rules.continueRun(state, request, this.clock()));
  }

  renewLease(tap: string, token: number, ttlMs: number): Promise<StateWrite> {
    return this.write(tap, (state) => rules.renewLease(state, token, ttlMs, this.clock()));
  }

  markStaged(tap: string, token: number, at: BookmarkAt): Promise<StateWrite> {
    return this.write(tap, (state) => rules.markStaged(state, token, at));
  }

  markCommitted(tap: string, at: BookmarkAt): Promise<StateWrite> {
    return this.write(tap, (state) => rules.markCommitted(state, at));
  }

  releaseLease(tap: string, token: number): Promise<StateWrite> {
    return this.write(tap, (state) => rules.releaseLease(state, token));
  }

  recordLastRun(tap: string, lastRun: LastRun, token?: number): Promise<StateWrite> {
    return this.write(tap, (state) => rules.recordLastRun(state, lastRun, token));
  }

  rewind(
    tap: string,
    token: number,
    expected: ChunkPosition | undefined,
    to: BookmarkAt | undefined,
  ): Promise<StateWrite> {
    return this.write(tap, (state) => rules.rewind(state, token, expected, to, this.clock()));
  }

  async loadGuards(tap: string): Promise<LoadGuards> {
    const { dropped, committed } = await this.states.read(tap);
    return {
      dropped: dropped ?? [],
      ...(committed === undefined ? {} : { committed: { run: committed.run, seq: committed.seq } }),
    };
  }

  recordSkip(tap: string, skip: SkippedChunk): Promise<StateWrite> {
    return this.write(tap, (state) => rules.recordSkip(state, skip));
  }

  private write(tap: string, rule: (state: TapState) => rules.Transition): Promise<StateWrite> {
    return this.states.update<StateWrite>(tap, (state) => {
      const outcome = rule(state);
      return outcome.ok
        ? { state: outcome.state, result: { ok: true } as const }
        : { result: { ok: false, reason: outcome.reason } as const };
    });
  }

  private grant(tap: string, rule: (state: TapState) => rules.Transition<RunLease>): Promise<LeaseGrant> {
    return this.states.update<LeaseGrant>(tap, (state) => {
      const outcome = rule(state);
      return outcome.ok
        ? { state: outcome.state, result: { ok: true, lease: outcome.value, state: outcome.state } as const }
        : { result: { ok: false, reason: outcome.reason, state } as const };
    });
  }
}
