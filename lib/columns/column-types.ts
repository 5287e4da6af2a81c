/**
 * How a JSON Schema property becomes a warehouse column, independent of any one destination.
 * Each destination maps these logical types to its own SQL types.
 *
 * | JSON Schema                                   | logical type         |
 * | --------------------------------------------- | -------------------- |
 * | string, format date-time                      | timestamp            |
 * | string, format date                           | date                 |
 * | string (anything else)                        | string               |
 * | integer                                       | integer (64-bit)     |
 * | integer with bounds beyond 64 bits            | decimal, scale 0     |
 * | number with multipleOf (e.g. 0.01)            | decimal, its scale   |
 * | number                                        | number (double)      |
 * | boolean                                       | boolean              |
 * | object, array, no type, or mixed types        | json                 |
 *
 * `null` in a type list only makes the column nullable (every column is).
 */
import type { JsonSchema } from '../protocol/messages.ts';

export type LogicalType =
  | { readonly kind: 'string' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'date' }
  | { readonly kind: 'integer' }
  | { readonly kind: 'decimal'; readonly scale: number }
  | { readonly kind: 'number' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'json' };

/** Largest decimal scale we keep; both DuckDB and PostgreSQL hold 38 digits exactly in DECIMAL(38, s). */
export const MAX_DECIMAL_SCALE = 18;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * A property's column type. `root` is the stream's whole schema, for `$ref`s into its `definitions`
 * (or `$defs`), which taps generated from OpenAPI documents write.
 */
export function logicalTypeOf(property: unknown, root?: JsonSchema): LogicalType {
  const resolved = resolveRef(property, root);
  if (typeof resolved !== 'object' || resolved === null) return { kind: 'json' };
  const schema = resolved as JsonSchema;
  const alternatives = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) {
    const types = alternatives
      .map((branch) => resolveRef(branch, root))
      .filter((branch) => !isNullOnly(branch))
      .map((branch) => logicalTypeOf(branch, root));
    const first = types[0];
    return first !== undefined && types.every((type) => sameType(type, first)) ? first : { kind: 'json' };
  }
  const declared = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  const types = declared.filter((type) => type !== 'null');
  if (types.length === 2 && types.includes('integer') && types.includes('number')) return numberType(schema);
  if (types.length !== 1) return { kind: 'json' };
  switch (types[0]) {
    case 'string':
      if (schema.format === 'date-time') return { kind: 'timestamp' };
      if (schema.format === 'date') return { kind: 'date' };
      return { kind: 'string' };
    case 'integer':
      return exceedsInt64(schema) ? { kind: 'decimal', scale: 0 } : { kind: 'integer' };
    case 'number':
      return numberType(schema);
    case 'boolean':
      return { kind: 'boolean' };
    default:
      return { kind: 'json' };
  }
}

export function sameType(a: LogicalType, b: LogicalType): boolean {
  return typeTag(a) === typeTag(b);
}

/** A short name for the type, used to name the extra column a type change adds (`amount__string`). */
export function typeTag(type: LogicalType): string {
  return type.kind === 'decimal' ? `decimal_${type.scale}` : type.kind;
}

function numberType(schema: JsonSchema): LogicalType {
  const step = schema.multipleOf;
  if (typeof step !== 'number' || step <= 0) return { kind: 'number' };
  return { kind: 'decimal', scale: Math.min(MAX_DECIMAL_SCALE, decimalPlaces(step)) };
}

function decimalPlaces(step: number): number {
  const [mantissa = '', exponent = '0'] = step.toExponential().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/**
 * Whether declared bounds reach past 64-bit integers. A bound written as 9223372036854775807 (the
 * int64 maximum, as PostgreSQL taps declare bigint) reads as the double 2^63, one more than the
 * maximum: the largest doubles at or next to the int64 range count as that range.
 */
function exceedsInt64(schema: JsonSchema): boolean {
  const bounds = [schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum];
  return bounds.some((bound) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) return false;
    const value = BigInt(Math.trunc(bound));
    return value > INT64_MAX + 1n || value < INT64_MIN;
  });
}

/** Follows a local `$ref` (`#/definitions/money`); anything else is returned as it is. */
function resolveRef(schema: unknown, root: JsonSchema | undefined, depth = 0): unknown {
  if (root === undefined || depth > 16 || typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as JsonSchema).$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    const key = decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~');
    target = typeof target === 'object' && target !== null ? (target as JsonSchema)[key] : undefined;
  }
  return target === undefined ? schema : resolveRef(target, root, depth + 1);
}

function isNullOnly(branch: unknown): boolean {
  return typeof branch === 'object' && branch !== null && (branch as JsonSchema).type === 'null';
}
