import type { Destination } from '../../lib/destinations/destination.ts';
import { PostgresDestination } from '../../lib/destinations/postgres/postgres-destination.ts';
import { quoteIdentifier } from '../../lib/destinations/sql-text.ts';
import { sanitizeIdentifier } from '../../lib/persister/identifiers.ts';
import { isolatedPostgres } from '../helpers/postgres.ts';
import { destinationConformance } from './conformance.ts';

const server = isolatedPostgres('conformance');
const asPostgres = (destination: Destination) => destination as PostgresDestination;
const table = (destination: Destination, tap: string, stream: string) =>
  `${quoteIdentifier(asPostgres(destination).schemaOf(tap))}.${quoteIdentifier(sanitizeIdentifier(stream))}`;
const column = (name: string) => (/^[a-z_]+$/.test(name) ? quoteIdentifier(name) : name);

destinationConformance({
  name: 'postgres',
  open: () => PostgresDestination.open(server.url),
  async text(destination, tap, stream, columns, orderBy) {
    const rows = await asPostgres(destination).query(
      `SELECT ${columns.map((name, i) => `CAST(${column(name)} AS text) AS c${i}`).join(', ')} FROM ${table(destination, tap, stream)} ORDER BY ${orderBy}`,
    );
    return rows.map((row) => columns.map((_, i) => (row[`c${i}`] ?? null) as string | null));
  },
  async epochMs(destination, tap, stream, name, orderBy) {
    const rows = await asPostgres(destination).query(
      `SELECT (extract(epoch FROM ${quoteIdentifier(name)}) * 1000)::float8 AS ms FROM ${table(destination, tap, stream)} ORDER BY ${orderBy}`,
    );
    return rows.map((row) => (row.ms === null ? null : Number(row.ms)));
  },
  async tables(destination, tap) {
    const rows = await asPostgres(destination).query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [asPostgres(destination).schemaOf(tap)],
    );
    return rows.map((row) => String(row.table_name));
  },
  async columns(destination, tap, stream) {
    const rows = await asPostgres(destination).query(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [asPostgres(destination).schemaOf(tap), sanitizeIdentifier(stream)],
    );
    return rows.map((row) => String(row.column_name));
  },
  async json(destination, tap, stream, name, orderBy) {
    const rows = await asPostgres(destination).query(
      `SELECT ${quoteIdentifier(name)}::text AS doc FROM ${table(destination, tap, stream)} ORDER BY ${orderBy}`,
    );
    return rows.map((row) => JSON.parse(String(row.doc)));
  },
  cleanUp: () => server.dropSchemas(),
});
