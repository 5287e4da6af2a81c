/**
 * A state store whose chosen calls fail, as a crash or an outage between two steps would: the k-th
 * call of any method throws instead of reaching the store (nothing is written).
 */
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import type {
  BookmarkAt,
  ContinuationRequest,
  LastRun,
  LeaseGrant,
  LoadGuards,
  NewRunRequest,
  SkippedChunk,
  StateStore,
  StateWrite,
  TapState,
} from '../state/state-store.ts';
import { InjectedFault } from './faulty-destination.ts';

export type StateStoreMethod = Exclude<keyof StateStore, 'description'>;

export class FaultyStateStore implements StateStore {
  readonly description: string;
  private readonly calls = new Map<StateStoreMethod, number>();
  private readonly failures = new Map<StateStoreMethod, Set<number>>();

  constructor(private readonly inner: StateStore) {
    this.description = `faulty(${inner.description})`;
  }

  /** The `nth` (1-based, counted from now) call of `method` fails; several may be armed. */
  failCall(method: StateStoreMethod, nth = 1): void {
    const done = this.calls.get(method) ?? 0;
    const set = this.failures.get(method) ?? new Set<number>();
    set.add(done + nth);
    this.failures.set(method, set);
  }

  /** No armed call fails any more. */
  disarm(): void {
    this.failures.clear();
  }

  failNextCommittedWrites(count = 1): void {
    for (let i = 1; i <= count; i += 1) this.failCall('markCommitted', i);
  }

  failNextStagedWrites(count = 1): void {
    for (let i = 1; i <= count; i += 1) this.failCall('markStaged', i);
  }

  private check(method: StateStoreMethod): void {
    const call = (this.calls.get(method) ?? 0) + 1;
    this.calls.set(method, call);
    if (this.failures.get(method)?.delete(call) === true)
      throw new InjectedFault(`injected fault: the state store's ${method} failed (call ${call})`);
  }

  read(tap: string): Promise<TapState> {
    this.check('read');
    return this.inner.read(tap);
  }

  beginRun(tap: string, request: NewRunRequest): Promise<LeaseGrant> {
    this.check('beginRun');
    return this.inner.beginRun(tap, request);
  }

  continueRun(tap: string, request: ContinuationRequest): Promise<LeaseGrant> {
    this.check('continueRun');
    return this.inner.continueRun(tap, request);
  }

  renewLease(tap: string, token: number, ttlMs: number): Promise<StateWrite> {
    this.check('renewLease');
    return this.inner.renewLease(tap, token, ttlMs);
  }

  rewind(
    tap: string,
    token: number,
    expected: ChunkPosition | undefined,
    to: BookmarkAt | undefined,
  ): Promise<StateWrite> {
    this.check('rewind');
    return this.inner.rewind(tap, token, expected, to);
  }

  loadGuards(tap: string): Promise<LoadGuards> {
    this.check('loadGuards');
    return this.inner.loadGuards(tap);
  }

  recordSkip(tap: string, skip: SkippedChunk): Promise<StateWrite> {
    this.check('recordSkip');
    return this.inner.recordSkip(tap, skip);
  }

  markStaged(tap: string, token: number, at: BookmarkAt): Promise<StateWrite> {
    this.check('markStaged');
    return this.inner.markStaged(tap, token, at);
  }

  markCommitted(tap: string, at: BookmarkAt): Promise<StateWrite> {
    this.check('markCommitted');
    return this.inner.markCommitted(tap, at);
  }

  releaseLease(tap: string, token: number): Promise<StateWrite> {
    this.check('releaseLease');
    return this.inner.releaseLease(tap, token);
  }

  recordLastRun(tap: string, lastRun: LastRun, token?: number): Promise<StateWrite> {
    this.check('recordLastRun');
    return this.inner.recordLastRun(tap, lastRun, token);
  }

  taps(): Promise<string[]> {
    return this.inner.taps();
  }
}
