/**
 * Decides, for a stream's schema and the table as it is, which column each property goes to and
 * which columns to add. Never drops or retypes a column: a property whose type changed gets a new
 * column named `<column>__<type>` and the old column keeps its data (DESIGN.md rule 7).
 */

import { type LogicalType, logicalTypeOf, typeTag } from './column-types.ts';
import { sanitizeIdentifier, suffixedIdentifier } from './identifiers.ts';
import type { StreamDefinition } from './stream-definition.ts';
import { NO_RECORDED_NAMES, type StreamNames, streamNamesFor } from './warehouse-names.ts';

/** The column, and the row value's name, for a record's undeclared properties. */
export const EXTRA_PROPERTY = '_tributary_extra';

export interface PlannedColumn {
  readonly property: string;
  readonly column: string;
  readonly type: LogicalType;
}

export interface ColumnPlan {
  readonly table: string;
  readonly columns: readonly PlannedColumn[];
  /** Columns to add to the table (all of them when the table is new). */
  readonly additions: readonly PlannedColumn[];
  /** Key columns, in key order. */
  readonly keyColumns: readonly string[];
}

export class SchemaPlanError extends Error {
  override readonly name = 'SchemaPlanError';
}

/**
 * @param existing the table's current columns and their types, as the destination names them in
 *   `sqlType`; undefined when the table does not exist yet.
 * @param sqlType the destination's SQL type for a logical type, in the form it reports back.
 * @param names the stream's table and property columns (warehouse-names.ts); by default as a first
 *   load would give them.
 */
export function planColumns(
  definition: StreamDefinition,
  existing: ReadonlyMap<string, string> | undefined,
  sqlType: (type: LogicalType) => string,
  names: StreamNames = namesOf(definition),
): ColumnPlan {
  const properties = Object.entries((definition.schema.properties ?? {}) as Record<string, unknown>);
  const columns: PlannedColumn[] = [];
  const additions: PlannedColumn[] = [];
  const taken = new Map(existing ?? []);
  for (const [property, propertySchema] of properties) {
    const type = logicalTypeOf(propertySchema, definition.schema);
    const base = names.columns.get(property) ?? sanitizeIdentifier(property);
    const wanted = sqlType(type);
    const typed = suffixedIdentifier(base, typeTag(type));
    let column: string;
    if (!taken.has(base) || taken.get(base) === wanted) column = base;
    else column = typed;
    const current = taken.get(column);
    if (current !== undefined && current !== wanted) {
      throw new SchemaPlanError(
        `stream "${definition.stream}": column ${column} exists as ${current} and cannot also hold ${wanted} for property "${property}"`,
      );
    }
    const planned = { property, column, type };
    columns.push(planned);
    if (current === undefined) {
      additions.push(planned);
      taken.set(column, wanted);
    }
  }
  // Properties a record has and its schema does not declare are kept here, as one JSON object, so
  // nothing a tap sends vanishes (a schema without `properties` keeps everything here).
  if (definition.undeclared !== 'drop' && !properties.some(([property]) => property === EXTRA_PROPERTY)) {
    const extra = { property: EXTRA_PROPERTY, column: EXTRA_PROPERTY, type: { kind: 'json' } as const };
    const current = taken.get(EXTRA_PROPERTY);
    if (current !== undefined && current !== sqlType(extra.type))
      throw new SchemaPlanError(
        `stream "${definition.stream}": column ${EXTRA_PROPERTY} exists as ${current}; it is kept for undeclared properties (JSON)`,
      );
    columns.push(extra);
    if (current === undefined) additions.push(extra);
  }
  const keyColumns = definition.keyProperties.map((key) => {
    const planned = columns.find((column) => column.property === key);
    if (planned === undefined) {
      throw new SchemaPlanError(
        `stream "${definition.stream}": key property "${key}" is not in the schema's properties (${properties.map(([name]) => name).join(', ') || 'none'}); add it to the schema or fix key_properties`,
      );
    }
    return planned.column;
  });
  return { table: names.table, columns, additions, keyColumns };
}

/** The stream's names with nothing recorded yet. */
export function namesOf(definition: StreamDefinition): StreamNames {
  return streamNamesFor(
    definition.stream,
    Object.keys((definition.schema.properties ?? {}) as Record<string, unknown>),
    NO_RECORDED_NAMES,
  );
}
