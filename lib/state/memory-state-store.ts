/**
 * Tap state in memory: the same rules as every store, for tests and the property-based checks that
 * run thousands of schedules. A change is synchronous between awaits, so it is atomic here.
 */
import { cloneJson } from '../protocol/exact-json.ts';
import type { TapState } from './state-store.ts';
import { normaliseState } from './state-transitions.ts';
import { type LockedStates, TransitionStateStore } from './transition-store.ts';

class MemoryStates implements LockedStates {
  readonly description = 'memory';
  readonly states = new Map<string, TapState>();

  async update<T>(tap: string, change: (state: TapState) => { state?: TapState; result: T }): Promise<T> {
    const { state, result } = change(normaliseState(tap, this.states.get(tap)));
    if (state !== undefined) this.states.set(tap, cloneJson(state));
    return result;
  }

  async read(tap: string): Promise<TapState> {
    return cloneJson(normaliseState(tap, this.states.get(tap)));
  }

  async taps(): Promise<string[]> {
    return [...this.states.keys()].sort();
  }
}

export class MemoryStateStore extends TransitionStateStore {
  constructor(clock: () => number = Date.now) {
    super(new MemoryStates(), clock);
  }
}
