/**
 * A destination in memory with a real ledger, behind the same interface as DuckDB and PostgreSQL:
 * keyed streams are upserted (the later position wins), unkeyed streams appended, and a chunk's rows
 * and ledger row become visible together at commit or not at all. For property-based tests of the
 * exactly-once rules, where a database per case would be too slow; the SQL destinations pass the
 * same conformance suite.
 */
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import {
  type Destination,
  emptyCounts,
  type LedgerEntry,
  type LoadTransaction,
  type RowToLoad,
  type StreamDefinition,
  type StreamLoadCounts,
} from '../destinations/destination.ts';
import type { JsonObject } from '../protocol/messages.ts';

interface Table {
  keys: readonly string[];
  keyed: Map<string, JsonObject>;
  appended: JsonObject[];
}

export class MemoryDestination implements Destination {
  readonly description = 'memory destination';
  readonly tables = new Map<string, Table>();
  private readonly ledgers = new Map<string, LedgerEntry[]>();
  private lock: Promise<void> = Promise.resolve();

  /** A stream's rows as loaded: keyed rows by key, then appended rows in load order. */
  rows(tap: string, stream: string): JsonObject[] {
    const table = this.tables.get(`${tap}.${stream}`);
    return table === undefined ? [] : [...table.keyed.values(), ...table.appended];
  }

  async ledger(tap: string): Promise<LedgerEntry[]> {
    return [...(this.ledgers.get(tap) ?? [])];
  }

  async close(): Promise<void> {}

  async begin(tap: string): Promise<LoadTransaction> {
    // One load of a tap at a time, as the SQL destinations' locks do.
    let release: () => void = () => {};
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.lock;
    this.lock = previous.then(() => turn);
    await previous;
    const definitions = new Map<string, StreamDefinition>();
    const pending: { stream: string; row: RowToLoad; chunk: ChunkPosition }[] = [];
    const ledgered: LedgerEntry[] = [];
    let chunk: ChunkPosition | undefined;
    let done = false;
    const finish = () => {
      if (!done) release();
      done = true;
    };
    const ledger = () => [...(this.ledgers.get(tap) ?? []), ...ledgered];
    return {
      loaded: async (position) => {
        const entry = ledger().find((row) => row.run === position.run && row.seq === position.seq);
        return entry === undefined ? undefined : { bookmark: entry.bookmark };
      },
      ledgerIsEmpty: async () => ledger().length === 0,
      startChunk: (position) => {
        chunk = position;
      },
      defineStream: async (definition) => {
        definitions.set(definition.stream, definition);
      },
      write: async (stream, row) => {
        if (chunk === undefined) throw new Error('write before startChunk');
        pending.push({ stream, row, chunk });
      },
      activateVersion: async () => {},
      finishChunk: async ({ bookmark, records }) => {
        if (chunk === undefined) throw new Error('finishChunk before startChunk');
        const counts: Record<string, StreamLoadCounts> = {};
        for (const { stream, chunk: of } of pending)
          if (of === chunk) {
            counts[stream] ??= emptyCounts();
            (counts[stream] as StreamLoadCounts).inserted += 1;
          }
        ledgered.push({ tap, ...chunk, bookmark, records, counts });
        return counts;
      },
      commit: async () => {
        for (const { stream, row } of pending) {
          const definition = definitions.get(stream);
          const name = `${tap}.${stream}`;
          const table: Table = this.tables.get(name) ?? {
            keys: definition?.keyProperties ?? [],
            keyed: new Map(),
            appended: [],
          };
          this.tables.set(name, table);
          const values = JSON.parse(JSON.stringify(row.values)) as JsonObject;
          if (table.keys.length === 0) table.appended.push(values);
          else table.keyed.set(JSON.stringify(table.keys.map((key) => values[key] ?? null)), values);
        }
        this.ledgers.set(tap, ledger());
        finish();
      },
      rollback: async () => {
        finish();
      },
    };
  }
}
