/** A state store that fails the next bookmark write, as a crash between commit and bookmark would. */
import type { BookmarkAt, LastRun, StateStore, TapState } from '../state/state-store.ts';
import { InjectedFault } from './faulty-destination.ts';

export class FaultyStateStore implements StateStore {
  readonly description: string;
  private failCommitted = 0;
  private failStaged = 0;

  constructor(private readonly inner: StateStore) {
    this.description = `faulty(${inner.description})`;
  }

  failNextCommittedWrites(count = 1): void {
    this.failCommitted = count;
  }

  failNextStagedWrites(count = 1): void {
    this.failStaged = count;
  }

  read(tap: string): Promise<TapState> {
    return this.inner.read(tap);
  }

  async markStaged(tap: string, at: BookmarkAt): Promise<boolean> {
    if (this.failStaged > 0) {
      this.failStaged -= 1;
      throw new InjectedFault('injected fault: crash before the staged bookmark write');
    }
    return this.inner.markStaged(tap, at);
  }

  async markCommitted(tap: string, at: BookmarkAt): Promise<boolean> {
    if (this.failCommitted > 0) {
      this.failCommitted -= 1;
      throw new InjectedFault('injected fault: crash before the committed bookmark write');
    }
    return this.inner.markCommitted(tap, at);
  }

  acquireLease(tap: string, owner: string, ttlMs: number, takeOverFrom?: string): Promise<boolean> {
    return this.inner.acquireLease(tap, owner, ttlMs, takeOverFrom);
  }

  releaseLease(tap: string, owner: string): Promise<void> {
    return this.inner.releaseLease(tap, owner);
  }

  recordLastRun(tap: string, lastRun: LastRun): Promise<void> {
    return this.inner.recordLastRun(tap, lastRun);
  }

  taps(): Promise<string[]> {
    return this.inner.taps();
  }
}
