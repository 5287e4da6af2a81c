/** PostgreSQL beyond the conformance suite: connections, secrets, locking, soft deletes, the CLI. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PostgresConnectionError,
  PostgresDestination,
} from '../../lib/destinations/postgres/postgres-destination.ts';
import { loadChunks } from '../../lib/persister/load-chunks.ts';
import type { ParsedMessage } from '../../lib/protocol/index.ts';
import { chunkOf, record, schema, state, temporaryFolder } from '../helpers/chunks.ts';
import { shell, trib } from '../helpers/cli.ts';
import { isolatedPostgres } from '../helpers/postgres.ts';

const server = isolatedPostgres('pg');
afterAll(() => server.dropSchemas());
const idName = { id: { type: 'integer' }, name: { type: 'string' } };

async function withDestination<T>(
  options: ConstructorParameters<typeof Object>[0],
  use: (destination: PostgresDestination) => Promise<T>,
): Promise<T> {
  const destination = await PostgresDestination.open(server.url, options as never);
  try {
    return await use(destination);
  } finally {
    await destination.close();
  }
}

describe('postgres destination', () => {
  it('refuses a wrong password with a clear error that never shows the password', async () => {
    const wrong = server.url.replace(/:[^:@/]+@/, ':not-the-Secret-123@');
    const error = await PostgresDestination.open(wrong).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PostgresConnectionError);
    expect((error as Error).message).toMatch(/Check the user name and password/);
    expect((error as Error).message).not.toMatch(/not-the-Secret-123/);
    expect((error as Error).message).toMatch(/:\*\*\*@/);
  });

  it('says when nothing listens at the address', async () => {
    const nowhere = server.url.replace(/@127\.0\.0\.1:\d+/, '@127.0.0.1:9');
    await expect(PostgresDestination.open(nowhere)).rejects.toThrow(
      /Is the server running and reachable at that host and port\?/,
    );
  });

  it('a connection killed mid-chunk: nothing committed, a clear error, and the retry loads once', async () => {
    // Only this destination's connections are killed: other test files load into the same server.
    const url = new URL(server.url);
    const application = `tributary_killed_${process.pid}`;
    url.searchParams.set('application_name', application);
    const destination = await PostgresDestination.open(url.toString());
    try {
      const admin = new pg.Client({ connectionString: server.base });
      await admin.connect();
      let attempts = 0;
      const messages = async function* (): AsyncGenerator<readonly ParsedMessage[]> {
        attempts += 1;
        yield [
          {
            line: 1,
            message: { type: 'SCHEMA', stream: 't', schema: { properties: idName }, keyProperties: ['id'] },
          },
        ];
        for (let id = 0; id < 120_000; id += 1) {
          yield [{ line: id + 2, message: { type: 'RECORD', stream: 't', record: { id, name: `n${id}` } } }];
          if (id === 100_000 && attempts === 1) {
            const killed = await admin.query(
              'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
              [application],
            );
            expect(killed.rowCount).toBeGreaterThan(0);
          }
        }
        yield [{ line: 999_999, message: { type: 'STATE', value: 'done' } }];
      };
      const chunk = { tap: 'killed', run: 'r1', seq: 0, previous: null, source: 'test', messages };
      const error = await loadChunks('killed', [chunk], { destination }).catch((caught: unknown) => caught);
      await admin.end();
      expect(error, String(error)).toBeInstanceOf(PostgresConnectionError);
      expect((error as Error).message).toMatch(/Nothing of this load was committed; run again to retry it/);
      expect(await destination.ledger('killed')).toEqual([]);
      const [outcome] = await loadChunks('killed', [chunk], { destination });
      expect(outcome?.counts.t?.inserted).toBe(120_000);
      const [row] = await destination.query(
        `SELECT count(*)::int AS n FROM "${destination.schemaOf('killed')}".t`,
      );
      expect(row?.n).toBe(120_000);
    } finally {
      await destination.close();
    }
  });

  it('loads of two taps run side by side; two loads of one tap take turns', async () => {
    await withDestination({}, async (destination) => {
      const first = await destination.begin('lock_a');
      const other = await Promise.race([
        destination.begin('lock_b'),
        sleep(2_000).then(() => 'blocked' as const),
      ]);
      expect(other).not.toBe('blocked');
      if (other !== 'blocked') await other.rollback();
      const second = destination.begin('lock_a');
      expect(
        await Promise.race([
          second.then(() => 'started' as const),
          sleep(500).then(() => 'waiting' as const),
        ]),
      ).toBe('waiting');
      await first.rollback();
      expect(
        await Promise.race([
          second.then(() => 'started' as const),
          sleep(5_000).then(() => 'waiting' as const),
        ]),
      ).toBe('started');
      await (await second).rollback();
    });
  });

  it('soft deletes: ACTIVATE_VERSION marks rows of other versions instead of removing them', async () => {
    await withDestination({ softDelete: true }, async (destination) => {
      const s = schema('plans', idName, ['id']);
      await loadChunks(
        'soft',
        [
          chunkOf('soft', 'r1', 0, [
            s,
            record('plans', { id: 1, name: 'a' }, 1),
            record('plans', { id: 2, name: 'b' }, 1),
            { type: 'ACTIVATE_VERSION', stream: 'plans', version: 1 },
            state(1),
          ]),
        ],
        { destination },
      );
      const [outcome] = await loadChunks(
        'soft',
        [
          chunkOf('soft', 'r2', 0, [
            s,
            record('plans', { id: 1, name: 'a2' }, 2),
            { type: 'ACTIVATE_VERSION', stream: 'plans', version: 2 },
            state(2),
          ]),
        ],
        { destination },
      );
      expect(outcome?.counts.plans?.deleted).toBe(1);
      const rows = await destination.query(
        `SELECT id::int, name, _tributary_deleted_at IS NOT NULL AS deleted FROM "${destination.schemaOf('soft')}".plans ORDER BY id`,
      );
      expect(rows).toEqual([
        { id: 1, name: 'a2', deleted: false },
        { id: 2, name: 'b', deleted: true },
      ]);
    });
  });

  it('trib run and trib persist load into PostgreSQL from a pipeline file and a pipe', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: postgres, url: "${env:TEST_PGURL}" }\ntaps:\n  sample:\n    streamer: sample\n    config: { customers: 800, orders: 900 }\n',
    );
    const run = await shell('TEST_PGURL="$URL" "$TRIB" run pipeline.yaml', folder, { URL: server.url });
    expect(run.stderr).not.toContain('tributary-test'); // the test server's password
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/customers +800 +800 +0 +0/);
    const piped = await shell(
      '"$TRIB" tap sample --config /dev/null | "$TRIB" persist --to "$URL" --tap piped | tail -1',
      folder,
      { URL: server.url },
    );
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({
      bookmarks: { orders: { partitions: { '': { tick: 0 } } } },
    });
    await withDestination({}, async (destination) => {
      const [row] = await destination.query(
        `SELECT count(*)::int AS n FROM "${destination.schemaOf('sample')}".customers`,
      );
      expect(row?.n).toBe(800);
      const [piped] = await destination.query(
        `SELECT count(*)::int AS n FROM "${destination.schemaOf('piped')}".orders`,
      );
      expect(piped?.n).toBe(5_000);
    });
    const wrong = await trib(
      ['persist', '--to', server.url.replace(/:[^:@/]+@/, ':Hunter2-secret@')],
      folder,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).not.toMatch(/Hunter2-secret/);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
