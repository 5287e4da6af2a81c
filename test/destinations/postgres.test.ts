import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeIdentifier } from '../../lib/columns/identifiers.ts';
import { type Destination, DestinationLoadError } from '../../lib/destinations/destination.ts';
import { PostgresDestination } from '../../lib/destinations/postgres/postgres-destination.ts';
import { quoteIdentifier } from '../../lib/destinations/sql-text.ts';
import { type ChunkToLoad, loadChunks } from '../../lib/persister/load-chunks.ts';
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
  /** Loads the chunks, which must fail; the error, and what the tap's ledger and schema hold after. */
  async function refusedLoad(tap: string, chunks: ChunkToLoad[]) {
    const destination = await PostgresDestination.open(server.url);
    try {
      const error = await loadChunks(tap, chunks, { destination }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DestinationLoadError);
      const tables = await destination.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = '${tap}'`,
      );
      return { message: (error as Error).message, ledger: await destination.ledger(tap), tables };
    } finally {
      await destination.close();
    }
  }

  it('is reported with the chunk, stream and record, and nothing of the chunk is committed', async () => {
    // A lone surrogate is valid JSON text, but jsonb refuses it.
    const refused = await refusedLoad('refused', [
      chunkOf('refused', 'r1', 0, [
        schema('t', { id: { type: 'integer' }, doc: { type: 'object' } }, ['id']),
        record('t', { id: 1, doc: { ok: true } }),
        record('t', { id: 2, doc: { text: '\ud800' } }),
        state(1),
      ]),
    ]);
    expect(refused.message).toMatch(
      /^test:r1\/0: COPY into stream "t": PostgreSQL refused record 2 of the chunk: invalid input syntax for type json/,
    );
    expect(refused.ledger).toEqual([]);
    expect(refused.tables).toEqual([{ n: 0 }]);
  });

  it('names the chunk it is in within a batch, though the next chunk was being read when the server refused it, and commits none', async () => {
    // The chunk after the refused one is long enough (several COPY buffers) to be refused itself
    // while it is read: the error must still name the chunk whose record the server refused.
    const chunk = (seq: number, records: number, doc: object) =>
      chunkOf('refusedbatch', 'r1', seq, [
        schema('t', { id: { type: 'integer' }, doc: { type: 'object' } }, []),
        ...Array.from({ length: records }, (_, index) => record('t', { id: seq * 100_000 + index, doc })),
        state(seq),
      ]);
    const long = { text: 'x'.repeat(500) };
    const refused = await refusedLoad('refusedbatch', [
      chunk(0, 200, long),
      chunk(1, 200, { text: '\ud800' }),
      chunk(2, 20_000, long),
      chunk(3, 200, long),
    ]);
    expect(refused.message).toMatch(
      /^test:r1\/1: COPY into stream "t": PostgreSQL refused record 1 of the chunk: invalid input syntax for type json/,
    );
    expect(refused.ledger).toEqual([]);
    expect(refused.tables).toEqual([{ n: 0 }]);
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

describe('COPY straight into the table, and the merge when a key is already there', () => {
  /** A record: its key, and whether it carries a ~350 KB pad, so six of them fill a 2 MB COPY buffer. */
  const recordArbitrary = fc.record({ key: fc.integer({ min: 0, max: 7 }), big: fc.boolean() });
  const loadArbitrary = fc.record({
    chunks: fc.array(fc.array(recordArbitrary, { minLength: 1, maxLength: 25 }), {
      minLength: 1,
      maxLength: 3,
    }),
    reopen: fc.boolean(),
  });
  const properties = {
    id: { type: 'integer' },
    n: { type: 'integer' },
    token: { type: 'string' },
    pad: { type: ['null', 'string'] },
  };
  let taps = 0;

  it('keeps the last record of each key and every unkeyed record once, stamped with its chunk, over any loads (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(loadArbitrary, { minLength: 1, maxLength: 5 }), async (loads) => {
        taps += 1;
        const tap = `direct${taps}`;
        const latest = new Map<number, { token: string; run: string; seq: number }>();
        const appended: { n: number; token: string; run: string; seq: number }[] = [];
        let destination = await PostgresDestination.open(server.url);
        try {
          for (const [loadIndex, load] of loads.entries()) {
            if (load.reopen) {
              await destination.close();
              destination = await PostgresDestination.open(server.url);
            }
            const run = `r${loadIndex}`;
            const expected: { inserted: number; updatedAtLeast: number; updatedAtMost: number }[] = [];
            const chunks = load.chunks.map((records, seq) => {
              const known = new Set(latest.keys());
              const keys = new Set(records.map((r) => r.key));
              const fresh = [...keys].filter((key) => !known.has(key)).length;
              expected.push({
                inserted: fresh,
                updatedAtLeast: keys.size - fresh,
                updatedAtMost: records.length - fresh,
              });
              const messages: object[] = [schema('keyed', properties, ['id']), schema('log', properties)];
              for (const [index, { key, big }] of records.entries()) {
                const values = {
                  id: key,
                  n: appended.length,
                  token: `${run}/${seq}/${index}`,
                  pad: big ? 'x'.repeat(350_000) : null,
                };
                messages.push(record('keyed', values), record('log', values));
                latest.set(key, { token: values.token, run, seq });
                appended.push({ n: values.n, token: values.token, run, seq });
              }
              return chunkOf(tap, run, seq, [...messages, state(`${run}/${seq}`)]);
            });
            const outcomes = await loadChunks(tap, chunks, { destination });
            for (const [seq, outcome] of outcomes.entries()) {
              const want = expected[seq];
              const keyed = outcome.counts.keyed;
              expect(keyed?.inserted).toBe(want?.inserted);
              expect(keyed?.updated).toBeGreaterThanOrEqual(want?.updatedAtLeast ?? 0);
              expect(keyed?.updated).toBeLessThanOrEqual(want?.updatedAtMost ?? 0);
              expect(outcome.counts.log?.inserted).toBe(load.chunks[seq]?.length);
            }
          }
          const schemaName = quoteIdentifier(destination.schemaOf(tap));
          const ledger = `${quoteIdentifier(sanitizeIdentifier(server.prefix))}._tributary_chunks`;
          const rows = async (stream: string, orderBy: string) =>
            destination.query(
              `SELECT t.id::int AS id, t.n::int AS n, t.token, t._tributary_run AS run, t._tributary_seq AS seq, t._tributary_loaded_at = c.loaded_at AS stamped FROM ${schemaName}.${stream} t LEFT JOIN ${ledger} c ON c.tap = $1 AND c.run = t._tributary_run AND c.seq = t._tributary_seq ORDER BY ${orderBy}`,
              [tap],
            );
          expect(await rows('keyed', 'id')).toEqual(
            [...latest.entries()]
              .sort(([a], [b]) => a - b)
              .map(([id, last]) => ({
                id,
                n: expect.any(Number),
                token: last.token,
                run: last.run,
                seq: last.seq,
                stamped: true,
              })),
          );
          expect(await rows('log', 'n')).toEqual(
            appended.map((row) => ({
              id: expect.any(Number),
              n: row.n,
              token: row.token,
              run: row.run,
              seq: row.seq,
              stamped: true,
            })),
          );
        } finally {
          await destination.close();
        }
      }),
      { numRuns: 12 },
    );
  });
});
