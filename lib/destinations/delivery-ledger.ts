/**
 * Which chunks of a tap a destination without a ledger of ours (a Singer target, the Stitch Import
 * API) has confirmed: a file per tap beside the state, changed under a lock file so two `trib`
 * processes never deliver the same chunk at once. Chunks of a run are delivered in order, so a run's
 * entry is the last chunk delivered (`through`) and its bookmark; the file grows by one entry a run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import { parseJsonExactly, stringifyExact } from '../protocol/exact-json.ts';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import type { LedgerEntry, StreamLoadCounts } from './destination.ts';

interface RunEntry {
  readonly through: number;
  readonly bookmark?: unknown;
  readonly records: number;
  readonly counts: Readonly<Record<string, StreamLoadCounts>>;
}

interface LedgerFile {
  readonly runs: Record<string, RunEntry>;
  /** The largest Stitch `sequence` sent for this tap, so sequences never go backwards. */
  readonly last_sequence?: string;
}

export class DeliveryLedger {
  private constructor(
    private readonly path: string,
    private file: LedgerFile,
    private readonly release: () => Promise<void>,
  ) {}

  /** Opens a tap's ledger and holds its lock until `close`. */
  static async open(folder: string, tap: string): Promise<DeliveryLedger> {
    await mkdir(folder, { recursive: true });
    const release = await lockfile.lock(folder, {
      lockfilePath: join(folder, `${tap}.lock`),
      stale: 30_000,
      update: 5_000,
      retries: { retries: 600, factor: 1.2, minTimeout: 10, maxTimeout: 500 },
      realpath: false,
    });
    try {
      return new DeliveryLedger(join(folder, `${tap}.json`), await readLedger(folder, tap), release);
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** A tap's delivered chunks, one entry per run (its last chunk), for `trib status`. */
  static async entries(folder: string, tap: string): Promise<LedgerEntry[]> {
    const file = await readLedger(folder, tap);
    return Object.entries(file.runs)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([run, entry]) => ({
        tap,
        run,
        seq: entry.through,
        bookmark: entry.bookmark,
        records: entry.records,
        counts: entry.counts,
      }));
  }

  loaded(position: ChunkPosition): { readonly bookmark: unknown } | undefined {
    const entry = this.file.runs[position.run];
    if (entry === undefined || entry.through < position.seq) return undefined;
    // Only the run's last chunk keeps its bookmark; an earlier one moves nothing.
    return { bookmark: entry.through === position.seq ? entry.bookmark : undefined };
  }

  isEmpty(): boolean {
    return Object.keys(this.file.runs).length === 0;
  }

  get lastSequence(): bigint {
    return BigInt(this.file.last_sequence ?? '0');
  }

  /** Records a delivered chunk (kept in memory until `save`). */
  add(position: ChunkPosition, chunk: Omit<RunEntry, 'through'>, lastSequence?: bigint): void {
    this.file = {
      runs: { ...this.file.runs, [position.run]: { through: position.seq, ...chunk } },
      ...(lastSequence === undefined && this.file.last_sequence === undefined
        ? {}
        : { last_sequence: String(lastSequence ?? this.lastSequence) }),
    };
  }

  async save(): Promise<void> {
    await writeFileAtomic(this.path, `${stringifyExact(this.file, 2)}\n`);
  }

  async close(): Promise<void> {
    await this.release();
  }
}

async function readLedger(folder: string, tap: string): Promise<LedgerFile> {
  try {
    return parseJsonExactly(await readFile(join(folder, `${tap}.json`), 'utf8')) as LedgerFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { runs: {} };
    throw error;
  }
}
