import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { comparePositions } from '../chunks/chunk-position.ts';
import type { BookmarkAt, LastRun, StateStore, TapState } from './state-store.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

/**
 * The local state store: one JSON file per tap, replaced atomically. Changes to one tap are
 * serialised within the process; two processes are kept apart by the run lease.
 */
export class FileStateStore implements StateStore {
  readonly folder: string;
  readonly description: string;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    folder: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.folder = resolve(folder);
    this.description = this.folder;
  }

  async read(tap: string): Promise<TapState> {
    try {
      return JSON.parse(await readFile(this.pathOf(tap), 'utf8')) as TapState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { tap };
      throw new Error(`state file ${this.pathOf(tap)} cannot be read: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  markStaged(tap: string, at: BookmarkAt): Promise<boolean> {
    return this.update(tap, (state) =>
      state.staged === undefined || comparePositions(at, state.staged) > 0
        ? { ...state, staged: at }
        : undefined,
    );
  }

  markCommitted(tap: string, at: BookmarkAt): Promise<boolean> {
    return this.update(tap, (state) =>
      state.committed === undefined || comparePositions(at, state.committed) > 0
        ? { ...state, committed: at }
        : undefined,
    );
  }

  acquireLease(tap: string, owner: string, ttlMs: number, takeOverFrom?: string): Promise<boolean> {
    const now = this.clock();
    return this.update(tap, (state) =>
      state.lease === undefined ||
      state.lease.expiresAt <= now ||
      state.lease.owner === owner ||
      state.lease.owner === takeOverFrom
        ? { ...state, lease: { owner, expiresAt: now + ttlMs } }
        : undefined,
    );
  }

  async releaseLease(tap: string, owner: string): Promise<void> {
    await this.update(tap, (state) => {
      if (state.lease?.owner !== owner) return undefined;
      const { lease: _released, ...rest } = state;
      return rest;
    });
  }

  async recordLastRun(tap: string, lastRun: LastRun): Promise<void> {
    await this.update(tap, (state) => ({ ...state, lastRun }));
  }

  async taps(): Promise<string[]> {
    const names = await readdir(this.folder).catch(() => [] as string[]);
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .sort();
  }

  /** Applies `change` to the tap's state; undefined means "condition failed, write nothing". */
  private update(tap: string, change: (state: TapState) => TapState | undefined): Promise<boolean> {
    const previous = this.queues.get(tap) ?? Promise.resolve();
    const next = previous.then(async () => {
      const changed = change(await this.read(tap));
      if (changed === undefined) return false;
      await mkdir(this.folder, { recursive: true });
      await writeFileAtomic(this.pathOf(tap), `${JSON.stringify(changed, null, 2)}\n`);
      return true;
    });
    this.queues.set(
      tap,
      next.catch(() => {}),
    );
    return next;
  }

  private pathOf(tap: string): string {
    return join(this.folder, `${tap}.json`);
  }
}
