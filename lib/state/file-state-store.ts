/**
 * The local state store: one JSON file per tap, replaced atomically, every change made while holding
 * a lock file (proper-lockfile: an O_EXCL-style lock directory with a stale-lock timeout), so two
 * `trib` processes on one machine never both take a lease or move `staged` backwards.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { parseJsonExactly, stringifyExact } from '../protocol/exact-json.ts';
import type { TapState } from './state-store.ts';
import { normaliseState } from './state-transitions.ts';
import { type LockedStates, TransitionStateStore } from './transition-store.ts';
import { writeFileAtomic } from './write-file-atomic.ts';

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

class FileStates implements LockedStates {
  readonly description: string;

  constructor(readonly folder: string) {
    this.description = folder;
  }

  async read(tap: string): Promise<TapState> {
    const path = this.pathOf(tap);
    try {
      return normaliseState(tap, parseJsonExactly(await readFile(path, 'utf8')) as Partial<TapState>);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return normaliseState(tap, undefined);
      throw new StateFileError(
        `state file ${path} cannot be read: ${(error as Error).message}. Fix or remove it (trib status shows what the stage and the warehouse hold).`,
        { cause: error },
      );
    }
  }

  async update<T>(tap: string, change: (state: TapState) => { state?: TapState; result: T }): Promise<T> {
    await mkdir(this.folder, { recursive: true });
    const lockTarget = join(this.folder, `${tap}.lock`);
    const release = await lockfile.lock(this.folder, {
      lockfilePath: lockTarget,
      stale: 10_000,
      update: 2_000,
      retries: { retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
      realpath: false,
    });
    try {
      const { state, result } = change(await this.read(tap));
      if (state !== undefined) await writeFileAtomic(this.pathOf(tap), `${stringifyExact(state, 2)}\n`);
      return result;
    } finally {
      await release();
    }
  }

  async taps(): Promise<string[]> {
    const names = await readdir(this.folder).catch(() => [] as string[]);
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .sort();
  }

  private pathOf(tap: string): string {
    return join(this.folder, `${tap}.json`);
  }
}

export class FileStateStore extends TransitionStateStore {
  readonly folder: string;

  constructor(folder: string, clock: () => number = Date.now) {
    const states = new FileStates(resolve(folder));
    super(states, clock);
    this.folder = states.folder;
  }
}
