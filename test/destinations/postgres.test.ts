import { describe, expect, it } from 'vitest';
import { sanitizeIdentifier } from '../../lib/columns/identifiers.ts';
import { type Destination, DestinationLoadError } from '../../lib/destinations/destination.ts';
import { PostgresDestination } from '../../lib/destinations/postgres/postgres-destination.ts';
import { quoteIdentifier } from '../../lib/destinations/sql-text.ts';
import { loadChunks } from '../../lib/persister/load-chunks.ts';
import { chunkOf, record, schema, state } from '../helpers/chunks.ts';
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

describe('a value PostgreSQL refuses', () => {
  it('is reported with the chunk, stream and record, and nothing of the chunk is committed', async () => {
    const destination = await PostgresDestination.open(server.url);
    try {
      // A lone surrogate is valid JSON text, but jsonb refuses it.
      const error = await loadChunks(
        'refused',
        [
          chunkOf('refused', 'r1', 0, [
            schema('t', { id: { type: 'integer' }, doc: { type: 'object' } }, ['id']),
            record('t', { id: 1, doc: { ok: true } }),
            record('t', { id: 2, doc: { text: '\ud800' } }),
            state(1),
          ]),
        ],
        { destination },
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DestinationLoadError);
      expect((error as Error).message).toMatch(
        /^test:r1\/0: COPY into stream "t": PostgreSQL refused record 2 of the chunk: invalid input syntax for type json/,
      );
      expect(await destination.ledger('refused')).toEqual([]);
    } finally {
      await destination.close();
    }
  });
});

describe('a long-lived PostgreSQL destination (a warm persister Lambda)', () => {
  it('adds no listener per transaction: 30 loads on one pooled connection warn nothing', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const destination = await PostgresDestination.open(server.url, { maxConnections: 1 });
    try {
      for (let load = 0; load < 30; load += 1) await (await destination.begin('warm')).rollback();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
      await destination.close();
    }
    expect(warnings.filter((warning) => warning.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
