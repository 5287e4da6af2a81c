import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sanitizeIdentifier } from '../../lib/columns/identifiers.ts';
import { DuckDbDestination } from '../../lib/destinations/duckdb/duckdb-destination.ts';
import { quoteIdentifier } from '../../lib/destinations/sql-text.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { destinationConformance } from './conformance.ts';

const folder = temporaryFolder('tributary-duckdb-');
const table = (tap: string, stream: string) =>
  `${quoteIdentifier(sanitizeIdentifier(tap))}.${quoteIdentifier(sanitizeIdentifier(stream))}`;
const asDuckDb = (destination: unknown) => destination as DuckDbDestination;
const column = (name: string) => (/^[a-z_]+$/.test(name) ? quoteIdentifier(name) : name);

destinationConformance({
  name: 'duckdb',
  open: () => DuckDbDestination.open(join(folder, 'warehouse.duckdb')),
  async text(destination, tap, stream, columns, orderBy) {
    const rows = await asDuckDb(destination).query(
      `SELECT ${columns.map((name, i) => `CAST(${column(name)} AS VARCHAR) AS c${i}`).join(', ')} FROM ${table(tap, stream)} ORDER BY ${orderBy}`,
    );
    return rows.map((row) => columns.map((_, i) => (row[`c${i}`] ?? null) as string | null));
  },
  async epochMs(destination, tap, stream, name, orderBy) {
    const rows = await asDuckDb(destination).query(
      `SELECT epoch_us(${quoteIdentifier(name)}) / 1000 AS ms FROM ${table(tap, stream)} ORDER BY ${orderBy}`,
    );
    return rows.map((row) => (row.ms === null ? null : Number(row.ms)));
  },
  async tables(destination, tap) {
    const rows = await asDuckDb(destination).query(
      `SELECT table_name FROM duckdb_tables() WHERE schema_name = '${sanitizeIdentifier(tap)}'`,
    );
    return rows.map((row) => String(row.table_name));
  },
  async columns(destination, tap, stream) {
    const rows = await asDuckDb(destination).query(
      `SELECT column_name FROM duckdb_columns() WHERE schema_name = '${sanitizeIdentifier(tap)}' AND table_name = '${sanitizeIdentifier(stream)}'`,
    );
    return rows.map((row) => String(row.column_name));
  },
  async json(destination, tap, stream, name, orderBy) {
    const rows = await asDuckDb(destination).query(
      `SELECT CAST(${quoteIdentifier(name)} AS VARCHAR) AS doc FROM ${table(tap, stream)} ORDER BY ${orderBy}`,
    );
    return rows.map((row) => JSON.parse(String(row.doc)));
  },
  async cleanUp() {
    rmSync(folder, { recursive: true, force: true });
  },
});

describe('DuckDB threads', () => {
  it("loads on all cores but Node's; a query (threads given) on every core", async () => {
    const loading = await DuckDbDestination.open(join(temporaryFolder(), 'threads.duckdb'));
    try {
      const [row] = await loading.query(`SELECT current_setting('threads') AS n`);
      expect(Number(row?.n)).toBe(Math.max(1, availableParallelism() - 1));
    } finally {
      await loading.close();
    }
    const querying = await DuckDbDestination.open(join(temporaryFolder(), 'threads.duckdb'), { threads: 3 });
    try {
      const [row] = await querying.query(`SELECT current_setting('threads') AS n`);
      expect(Number(row?.n)).toBe(3);
    } finally {
      await querying.close();
    }
  });
});
