import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { textTable } from '../../pipeline/text-table.ts';
import { stringifyExact } from '../../protocol/exact-json.ts';
import { writeOut } from '../write-out.ts';

/** A cell as text: exact integers, JSON for objects, empty for NULL. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString(); // a timestamp, not a JSON string
  if (typeof value === 'object') return stringifyExact(value);
  return String(value);
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

export function queryCommand(): Command {
  return new Command('query')
    .description("Run a SQL query against a DuckDB warehouse (a pipeline's, or a file) and print the rows.")
    .argument('<warehouse>', 'a pipeline YAML file, or a DuckDB file (duckdb:FILE or FILE.duckdb)')
    .argument('<sql>', 'the query')
    .addOption(
      new Option('--format <format>', 'how to print the rows')
        .choices(['table', 'csv', 'json', 'jsonl'])
        .default('table'),
    )
    .action(async (target: string, sql: string, options: { format: 'table' | 'csv' | 'json' | 'jsonl' }) => {
      const path = await warehousePath(target);
      // Read-only to the user's eye: a query never runs inside a load.
      const { DuckDbDestination } = await import('../../destinations/duckdb/duckdb-destination.ts');
      // A query has no Node work beside it: every core is DuckDB's.
      const warehouse = await DuckDbDestination.open(path, { threads: availableParallelism() });
      try {
        const rows = await warehouse.query(sql);
        const columns = Object.keys(rows[0] ?? {});
        if (options.format === 'json') {
          await writeOut(
            `${JSON.stringify(
              rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)]))),
              null,
              2,
            )}\n`,
          );
        } else if (options.format === 'jsonl') {
          await writeOut(
            rows
              .map(
                (row) =>
                  `${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)])))}\n`,
              )
              .join(''),
          );
        } else if (options.format === 'csv') {
          await writeOut(
            [columns, ...rows.map((row) => columns.map((column) => cellText(row[column])))]
              .map((line) => `${line.map(csvCell).join(',')}\n`)
              .join(''),
          );
        } else {
          const width = process.stdout.columns ?? 160;
          const cut = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
          const numeric = columns.map((column) =>
            rows.every((row) => ['number', 'bigint'].includes(typeof row[column]) || row[column] === null),
          );
          const lines = textTable(
            [columns, ...rows.map((row) => columns.map((column) => cut(cellText(row[column]))))],
            (column) => numeric[column] === true,
          );
          await writeOut(
            `${lines.map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line)).join('\n')}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`,
          );
        }
      } finally {
        await warehouse.close();
      }
    });
}

async function warehousePath(target: string): Promise<string> {
  const file = target.startsWith('duckdb:')
    ? target.slice('duckdb:'.length)
    : target.endsWith('.duckdb')
      ? target
      : undefined;
  if (file !== undefined) {
    // Opening a file that is not there would make an empty warehouse: say so instead.
    if (!existsSync(file))
      throw new Error(`${file}: no such DuckDB file; give the warehouse's path, or the pipeline file`);
    return file;
  }
  const pipeline = await loadPipeline(target);
  if (pipeline.destination.type !== 'duckdb')
    throw new Error(
      `${target}: destination is ${pipeline.destination.type}; use its own client (e.g. psql) to query it`,
    );
  return pipeline.destination.path;
}
