/** Dotted field paths (`address.city`) into records and into object schemas. */
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';
import { isObject } from '../protocol/parser.ts';

export function splitPath(path: string): string[] {
  return path.split('.').filter((part) => part !== '');
}

export function getPath(record: JsonObject, path: readonly string[]): unknown {
  let current: unknown = record;
  for (const part of path) {
    if (!isObject(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** A copy of `record` without the property at `path` (untouched when it is not there). */
export function withoutPath(record: JsonObject, path: readonly string[]): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined || !(head in record)) return record;
  if (rest.length === 0) {
    const { [head]: _removed, ...kept } = record;
    return kept;
  }
  const child = record[head];
  if (!isObject(child)) return record;
  const changed = withoutPath(child, rest);
  return changed === child ? record : { ...record, [head]: changed };
}

/** A copy of `record` with `value` at `path` (existing objects on the way are copied, not changed). */
export function withPath(record: JsonObject, path: readonly string[], value: unknown): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return record;
  if (rest.length === 0) return { ...record, [head]: value };
  const child = record[head];
  return { ...record, [head]: withPath(isObject(child) ? child : {}, rest, value) };
}

/** The schema of the property at `path` in an object schema, if it declares one. */
export function schemaAt(schema: JsonSchema, path: readonly string[]): JsonSchema | undefined {
  let current: JsonSchema | undefined = schema;
  for (const part of path) {
    const properties: unknown = current?.properties;
    if (!isObject(properties)) return undefined;
    const next: unknown = properties[part];
    current = isObject(next) ? (next as JsonSchema) : undefined;
  }
  return current;
}

/** An object schema with the property at `path` replaced (`undefined` removes it). */
export function withSchemaAt(
  schema: JsonSchema,
  path: readonly string[],
  property: JsonSchema | undefined,
): JsonSchema {
  const [head, ...rest] = path;
  if (head === undefined) return schema;
  const properties = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
  if (rest.length === 0) {
    const { [head]: _old, ...others } = properties;
    return { ...schema, properties: property === undefined ? others : { ...others, [head]: property } };
  }
  const child = properties[head];
  if (child === undefined) return schema;
  return { ...schema, properties: { ...properties, [head]: withSchemaAt(child, rest, property) } };
}

/**
 * The shape of a step that replaces values at `paths` by text (hash, mask): their schemas become
 * nullable strings, and each value that is there (not null) is replaced by `replace(value)`.
 */
export function replacingValues(paths: readonly (readonly string[])[], replace: (value: unknown) => string) {
  return {
    schema: (shape: {
      readonly stream: string;
      readonly schema: JsonSchema;
      readonly keyProperties: readonly string[];
    }) => ({
      ...shape,
      schema: paths.reduce(
        (schema, path) =>
          schemaAt(schema, path) === undefined
            ? schema
            : withSchemaAt(schema, path, { type: ['null', 'string'] }),
        shape.schema,
      ),
    }),
    record: (_stream: string, record: JsonObject) =>
      paths.reduce((current, path) => {
        const value = getPath(current, path);
        return value === undefined || value === null ? current : withPath(current, path, replace(value));
      }, record),
  };
}
