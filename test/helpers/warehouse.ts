import { join } from 'node:path';
import { DuckDbDestination } from '../../lib/destinations/duckdb/duckdb-destination.ts';

/** Runs one query on the DuckDB file a test's `trib` wrote in `folder`, and closes it again. */
export async function queryWarehouse(folder: string, sql: string, file = 'warehouse.duckdb') {
  const warehouse = await DuckDbDestination.open(join(folder, file));
  try {
    return await warehouse.query(sql);
  } finally {
    await warehouse.close();
  }
}
