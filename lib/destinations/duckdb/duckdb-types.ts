import type { LogicalType } from '../../persister/column-types.ts';

/** DuckDB column type for a logical type, spelled as `duckdb_columns()` reports it. */
export function duckDbType(type: LogicalType): string {
  switch (type.kind) {
    case 'string':
      return 'VARCHAR';
    case 'timestamp':
      return 'TIMESTAMP WITH TIME ZONE';
    case 'date':
      return 'DATE';
    case 'integer':
      return 'BIGINT';
    case 'decimal':
      return `DECIMAL(38,${type.scale})`;
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'json':
      return 'JSON';
  }
}

/**
 * The type `read_ndjson` reads a column as. Decimals and timestamps are read as text and cast, since
 * DuckDB's JSON reader goes through a double for decimals and the cast gives clearer errors.
 */
export function duckDbReadType(type: LogicalType): string {
  switch (type.kind) {
    case 'decimal':
    case 'timestamp':
    case 'date':
      return 'VARCHAR';
    default:
      return duckDbType(type);
  }
}
