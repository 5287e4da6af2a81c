/**
 * One interface every destination implements (DuckDB, PostgreSQL, ...). The persister drives it;
 * the destination owns SQL, types and schema evolution. Everything between `begin` and `commit`
 * is one destination transaction: the rows of its chunks and their ledger rows land together or
 * not at all.
 */
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import {
  type StreamDefinition,
  sameDefinition,
  type UndeclaredProperties,
} from '../columns/stream-definition.ts';
import { stringifyExact } from '../protocol/exact-json.ts';
import type { JsonObject, RawLine } from '../protocol/messages.ts';

export { type StreamDefinition, sameDefinition, type UndeclaredProperties };

export interface RowToLoad {
  /** The record's values (exact numbers as `LosslessNumber`). */
  readonly values: JsonObject;
  /** Position of the record in its chunk: the later one wins an upsert. */
  readonly position: number;
  readonly version?: number;
  /** True when `values` holds `LosslessNumber`s that must be written digit for digit. */
  readonly exact?: boolean;
  /**
   * The message line the row came from (`{"type":"RECORD",...,"record":{...}}`), when `values` is
   * exactly what it says; a destination may load from it instead of `values`.
   */
  readonly raw?: RawLine;
}

export interface StreamLoadCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

/** A chunk's row in the `_tributary_chunks` ledger. */
export interface LedgerEntry extends ChunkPosition {
  readonly tap: string;
  readonly bookmark: unknown;
  readonly records: number;
  readonly counts: Readonly<Record<string, StreamLoadCounts>>;
}

export interface LoadTransaction {
  /** The ledger's entry for this chunk of the transaction's tap, or undefined when it is not loaded. */
  loaded(position: ChunkPosition): Promise<{ readonly bookmark: unknown } | undefined>;
  /** Whether the transaction's tap has no chunk in the ledger (its first chunk may load). */
  ledgerIsEmpty(): Promise<boolean>;
  /** Names the chunk whose rows follow (rows carry its run and seq). */
  startChunk(position: ChunkPosition): void;
  /** Creates or evolves a stream's table (new columns added, changed types get a new column). */
  defineStream(definition: StreamDefinition): Promise<void>;
  /**
   * Buffers one row for the chunk being loaded. A promise when the caller must wait (the database is
   * behind); undefined when the row was taken at once, so a load spends no promise on each row.
   */
  write(stream: string, row: RowToLoad): Promise<void> | undefined;
  /** Removes the stream's rows of every other version, after the rows written so far. */
  activateVersion(stream: string, version: number): Promise<void>;
  /** Loads what the chunk buffered and writes its ledger row; returns the row counts per stream. */
  finishChunk(chunk: {
    readonly bookmark: unknown;
    readonly records: number;
  }): Promise<Record<string, StreamLoadCounts>>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface Destination {
  /** Names the destination for people; never holds a password. */
  readonly description: string;
  /** keep (the default): in a `_tributary_extra` JSON column; drop: not loaded. */
  readonly undeclaredProperties?: UndeclaredProperties;
  /**
   * How many records a transaction of a message stream (`trib persist`) should hold before it ends at
   * a STATE, when the user has not said: what this destination commits cheaply. @default 100_000
   */
  readonly commitEvery?: number;
  /** Starts a transaction for a tap; a second load of the same tap waits for the first. */
  begin(tap: string): Promise<LoadTransaction>;
  /** The tap's ledger, oldest first (for status and tests). */
  ledger(tap: string): Promise<LedgerEntry[]>;
  close(): Promise<void>;
}

export function emptyCounts(): StreamLoadCounts {
  return { inserted: 0, updated: 0, deleted: 0 };
}

/** A chunk's row counts for its ledger row: the streams it changed, by name. */
export function countsByStream(
  targets: Iterable<{ readonly definition: StreamDefinition; readonly counts: StreamLoadCounts }>,
): Record<string, StreamLoadCounts> {
  return Object.fromEntries(
    [...targets]
      .filter((target) => target.counts.inserted + target.counts.updated + target.counts.deleted > 0)
      .map((target) => [target.definition.stream, target.counts]),
  );
}

/** A ledger row's values: tap, run, seq, bookmark (JSON text), records, counts (JSON text). */
export function ledgerValues(
  tap: string,
  position: ChunkPosition,
  chunk: { readonly bookmark: unknown; readonly records: number },
  counts: Record<string, StreamLoadCounts>,
): [string, string, number, string, number, string] {
  return [
    tap,
    position.run,
    position.seq,
    stringifyExact(chunk.bookmark ?? null),
    chunk.records,
    JSON.stringify(counts),
  ];
}

/**
 * The destination refused rows (a value, a constraint). Named by stream and by the record's position
 * in the chunk, not by a temporary file or COPY line; the loader adds the chunk.
 */
export class DestinationLoadError extends Error {
  override readonly name = 'DestinationLoadError';
}
