import type { LogicalType } from '../../columns/column-types.ts';

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
 * The type `read_ndjson` reads a column as. Decimals are read as text and cast, since DuckDB's JSON
 * reader takes numbers through a double; everything else is parsed by the reader itself, which is
 * twice as fast as reading text and casting it (timestamps especially).
 */
export function duckDbReadType(type: LogicalType): string {
  return type.kind === 'decimal' ? 'VARCHAR' : duckDbType(type);
}
