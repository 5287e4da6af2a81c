import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The test server's URL with a schema prefix of this test file's own, and a way to drop it after. */
export function isolatedPostgres(label: string) {
  const prefix = `t_${label}_${randomBytes(3).toString('hex')}`;
  const base = inject('pgUrl');
  const url = `${base}${base.includes('?') ? '&' : '?'}schema=${prefix}`;
  return {
    base,
    url,
    prefix,
    /** One query on the test server (as the base URL's user), for assertions. */
    async query(sql: string): Promise<Record<string, unknown>[]> {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    async dropSchemas(): Promise<void> {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [
          `${prefix}%`,
        ]);
        for (const row of rows) await client.query(`DROP SCHEMA "${String(row.nspname)}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
