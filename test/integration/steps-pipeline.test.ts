/**
 * A tap with steps, end to end with `trib run`: hash (via a component), drop, flatten, a custom module,
 * validate with quarantine and filter, into DuckDB and PostgreSQL. The tables hold what the steps made,
 * the quarantine table holds the record a step spoiled, and the report shows each step's figures.
 */
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresDestination } from '../../lib/destinations/postgres/postgres-destination.ts';
import { customerAt } from '../../lib/streamers/sample/sample-data.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { shell } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/paths.ts';
import { isolatedPostgres } from '../helpers/postgres.ts';
import { queryWarehouse } from '../helpers/warehouse.ts';

const postgres = isolatedPostgres('steps');
afterAll(() => postgres.dropSchemas());
const KEY = 'a-hash-key-of-some-length';

const pipeline = (destination: string) => `
destination: ${destination}
components:
  pii: { use: hash, fields: [email], key: "\${env:HASH_KEY}" }
taps:
  sample:
    streamer: sample
    config: { customers: 200, orders: 300 }
    transforms:
      - pii
      - { use: drop, fields: [address.street], streams: [customers] }
      - { use: flatten, streams: [customers] }
      - { use: ./steps/tag.mjs, label: vip, streams: [customers] }
      - { use: validate, on_invalid: quarantine }
      - { use: filter, where: "status != 'refunded'", streams: ["ord*"] }
`;

function folderWith(destination: string): string {
  const folder = temporaryFolder();
  cpSync(join(repoRoot, 'test', 'fixtures', 'steps'), join(folder, 'steps'), { recursive: true });
  writeFileSync(join(folder, 'pipeline.yaml'), pipeline(destination));
  return folder;
}
const env = { HASH_KEY: KEY, PG_TARGET: postgres.url };

describe('trib run with steps', () => {
  it('DuckDB: hashed, dropped, flattened, tagged, the spoiled record quarantined, refunds filtered; the report shows each step', async () => {
    const folder = folderWith('{ type: duckdb, path: warehouse.duckdb }');
    const run = await shell('"$TRIB" run pipeline.yaml', folder, env);
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/hash \(step 1\) +500 +500 +200 +0 +0 +0/); // orders have no email: unchanged
    expect(run.stdout).toMatch(/validate \(step 5\) +500 +499 +0 +1 +1 +1/);
    expect(run.stdout).toMatch(/filter \(step 6\) +300 +\d+ +0 +[1-9]\d* +0 +0/);
    const columns = (
      await queryWarehouse(
        folder,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sample' AND table_name = 'customers'",
      )
    ).map((row) => row.column_name);
    expect(columns).toEqual(expect.arrayContaining(['address__city', 'address__postcode', 'label', 'email']));
    expect(columns).not.toContain('address__street');
    expect(columns).not.toContain('address');
    const customers = await queryWarehouse(
      folder,
      'SELECT id, email, label FROM sample.customers ORDER BY id',
    );
    expect(customers).toHaveLength(199);
    expect(customers.map((row) => row.id)).not.toContain(7n);
    expect(customers[0]?.label).toBe('vip');
    // The HMAC of the email the sample source made for customer 1, so it joins with any table hashed alike.
    const original = customerAt(1, 1, 0, 0, Date.parse('2024-01-01T00:00:00Z')).email;
    expect(customers[0]?.email).toBe(createHmac('sha256', KEY).update(original).digest('hex'));
    const [quarantine] = await queryWarehouse(
      folder,
      "SELECT record->>'id' AS id, record->>'lifetime_value' AS value, reason, run FROM sample.customers__quarantine",
    );
    expect(quarantine).toMatchObject({ id: '7', value: 'a lot' });
    expect(String(quarantine?.reason)).toMatch(/lifetime_value/);
    const [orders] = await queryWarehouse(
      folder,
      "SELECT count(*) FILTER (WHERE status = 'refunded') AS refunded, count(*) AS n FROM sample.orders",
    );
    expect(orders?.refunded).toBe(0n);
    expect(Number(orders?.n)).toBeLessThan(300);
  });

  it('trib quarantine shows what was set aside; once fixed, replay loads it once, with the quarantine row marked in the same transaction', async () => {
    const folder = folderWith('{ type: duckdb, path: warehouse.duckdb }');
    expect((await shell('"$TRIB" run pipeline.yaml', folder, env)).code).toBe(0);
    const shown = await shell('"$TRIB" quarantine sample --pipeline pipeline.yaml', folder, env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/customers +1 +0/);
    expect(shown.stdout).toMatch(/customers \(step 5, run r0000000001-\S+\): .*lifetime_value/);
    // Replayed before the fix: it fails again and stays pending.
    const early = await shell('"$TRIB" quarantine replay sample --pipeline pipeline.yaml', folder, env);
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/0 replayed \(0 records loaded\), 1 still failing/);
    // The fix: the step's schema now allows the value. The replay loads it, once.
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      pipeline('{ type: duckdb, path: warehouse.duckdb }').replace(
        './steps/tag.mjs',
        './steps/tag-fixed.mjs',
      ),
    );
    const replay = await shell('"$TRIB" quarantine replay sample --pipeline pipeline.yaml', folder, env);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/1 replayed \(1 records loaded\), 0 still failing/);
    const again = await shell('"$TRIB" quarantine replay sample --pipeline pipeline.yaml', folder, env);
    expect(again.stdout).toMatch(/0 replayed/);
    const [counts] = await queryWarehouse(
      folder,
      'SELECT (SELECT count(*) FROM sample.customers) AS customers, (SELECT count(*) FROM sample.customers WHERE id = 7) AS seven, (SELECT count(*) FROM sample.customers__quarantine WHERE replayed_at IS NOT NULL) AS replayed',
    );
    expect(counts).toEqual({ customers: 200n, seven: 1n, replayed: 1n });
    expect((await shell('"$TRIB" quarantine sample --pipeline pipeline.yaml', folder, env)).stdout).toMatch(
      /customers +0 +1/,
    );
  });

  it('PostgreSQL: the same rows', async () => {
    const folder = folderWith('{ type: postgres, url: "${env:PG_TARGET}" }');
    const run = await shell('"$TRIB" run pipeline.yaml', folder, env);
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    const warehouse = await PostgresDestination.open(postgres.url);
    try {
      const schema = warehouse.schemaOf('sample');
      const [counts] = await warehouse.query(
        `SELECT (SELECT count(*)::int FROM "${schema}".customers) AS customers, (SELECT count(*)::int FROM "${schema}".customers__quarantine) AS quarantined, (SELECT count(*)::int FROM "${schema}".orders WHERE status = 'refunded') AS refunded`,
      );
      expect(counts).toEqual({ customers: 199, quarantined: 1, refunded: 0 });
      const [hashed] = await warehouse.query(`SELECT email FROM "${schema}".customers ORDER BY id LIMIT 1`);
      expect(String(hashed?.email)).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await warehouse.close();
    }
  });

  it("--dry-run shows each step's schema and first records, and stages, loads and commits nothing", async () => {
    const folder = folderWith('{ type: duckdb, path: warehouse.duckdb }');
    const dry = await shell('"$TRIB" run pipeline.yaml --dry-run --limit 10', folder, env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /tap sample \(dry run: nothing staged, loaded or committed; up to 10 records a stream\)/,
    );
    expect(dry.stdout).toMatch(
      /after flatten \(step 3\):\n +customers \(id\*: integer, .*address__city: string/,
    );
    expect(dry.stdout).toMatch(
      /after validate \(step 5\):[\s\S]*customers__quarantine|steps: .*validate \(step 5\) 20→19/,
    );
    expect(existsSync(join(folder, '.tributary'))).toBe(false);
    expect(existsSync(join(folder, 'warehouse.duckdb'))).toBe(false);
  });

  it('trib test runs the steps on the records a test gives and shows a diff where the output differs', async () => {
    const folder = folderWith('{ type: duckdb, path: warehouse.duckdb }');
    writeFileSync(
      join(folder, 'pipeline.test.yaml'),
      `tests:
  - name: refunds are dropped, the rest kept as they are
    tap: sample
    stream: orders
    input: [{ id: 1, status: paid }, { id: 2, status: refunded }]
    expect: { records: [{ id: 1, status: paid }], quarantined: 0 }
  - name: the custom step tags customers and validate quarantines what the schema refuses
    tap: sample
    stream: customers
    steps: [4, 5]
    schema: { properties: { id: { type: integer }, lifetime_value: { type: number } } }
    key_properties: [id]
    input: [{ id: 1, lifetime_value: 2 }, { id: 7, lifetime_value: 3 }]
    expect: { records: [{ id: 1, lifetime_value: 2, label: vip }], quarantined: 1 }
  - name: a wrong expectation fails with a diff
    tap: sample
    stream: orders
    input: [{ id: 1, status: refunded }]
    expect: { records: [{ id: 1, status: refunded }] }
`,
    );
    const result = await shell('"$TRIB" test pipeline.yaml', folder, env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/ok {3}refunds are dropped, the rest kept as they are/);
    expect(result.stdout).toMatch(/ok {3}the custom step tags customers and validate quarantines/);
    expect(result.stdout).toMatch(
      /FAIL a wrong expectation fails with a diff\n +- \{"id":1,"status":"refunded"\}/,
    );
    expect(result.stdout).toMatch(/2 passed, 1 failed/);
  });

  it('a bad step is named at load with file, tap, step and field, before anything runs', async () => {
    const folder = folderWith('{ type: duckdb, path: warehouse.duckdb }');
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      pipeline('{ type: duckdb, path: warehouse.duckdb }')
        .replace('keep', '')
        .replace('where: "status != \'refunded\'"', 'where: "status !="'),
    );
    const run = await shell('"$TRIB" run pipeline.yaml', folder, env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /pipeline\.yaml: taps\.sample\.transforms\[5\] \(filter\): where: "status !=": expected a field or a value at character 10, found the end/,
    );
  });
});
