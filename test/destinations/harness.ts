import type { Destination } from '../../lib/destinations/destination.ts';

/** What the conformance suite needs from each destination under test. */
export interface DestinationHarness {
  readonly name: string;
  /** A destination no other test file writes to. */
  open(): Promise<Destination>;
  /** Each row's columns as text (NULL as null), ordered by `orderBy`. */
  text(
    destination: Destination,
    tap: string,
    stream: string,
    columns: readonly string[],
    orderBy: string,
  ): Promise<(string | null)[][]>;
  /** A timestamp column as epoch milliseconds. */
  epochMs(
    destination: Destination,
    tap: string,
    stream: string,
    column: string,
    orderBy: string,
  ): Promise<(number | null)[]>;
  /** The tap's tables. */
  tables(destination: Destination, tap: string): Promise<string[]>;
  /** The table's column names. */
  columns(destination: Destination, tap: string, stream: string): Promise<string[]>;
  /** A JSON column parsed back. */
  json(
    destination: Destination,
    tap: string,
    stream: string,
    column: string,
    orderBy: string,
  ): Promise<unknown[]>;
  cleanUp(): Promise<void>;
}
