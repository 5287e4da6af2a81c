import { Command } from 'commander';
import { DuckDbDestination } from '../../destinations/duckdb/duckdb-destination.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';

export function queryCommand(): Command {
  return new Command('query')
    .description("Run a SQL query against a pipeline's DuckDB warehouse and print the rows.")
    .argument('<pipeline>', 'pipeline YAML file')
    .argument('<sql>', 'the query')
    .action(async (file: string, sql: string) => {
      const pipeline = await loadPipeline(file);
      if (pipeline.destination.type !== 'duckdb') {
        throw new Error(
          `${file}: destination is ${pipeline.destination.type}; use its own client (e.g. psql) to query it`,
        );
      }
      const warehouse = await DuckDbDestination.open(pipeline.destination.path);
      try {
        const rows = await warehouse.query(sql);
        console.table(
          rows.map((row) =>
            Object.fromEntries(
              Object.entries(row).map(([key, value]) => [
                key,
                typeof value === 'bigint' ? Number(value) : value,
              ]),
            ),
          ),
        );
      } finally {
        await warehouse.close();
      }
    });
}
