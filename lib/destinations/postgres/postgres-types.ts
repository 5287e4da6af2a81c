import type { LogicalType } from '../../columns/column-types.ts';

/** PostgreSQL column type for a logical type, spelled as `format_type()` reports it. */
export function postgresType(type: LogicalType): string {
  switch (type.kind) {
    case 'string':
      return 'text';
    case 'timestamp':
      return 'timestamp with time zone';
    case 'date':
      return 'date';
    case 'integer':
      return 'bigint';
    case 'decimal':
      return `numeric(38,${type.scale})`;
    case 'number':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'json':
      return 'jsonb';
  }
}
