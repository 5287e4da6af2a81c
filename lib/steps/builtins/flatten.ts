import type { JsonObject, JsonSchema } from '../../protocol/messages.ts';
import { isObject } from '../../protocol/parser.ts';
import { defineStep } from '../step.ts';

/**
 * `flatten { depth: N, separator: "__" }`: nested objects become top-level properties
 * (`address.city` → `address__city`), down to `depth` levels; arrays stay as they are.
 */
export const flattenStep = defineStep<{ depth?: number; separator?: string }>({
  name: 'flatten',
  kind: 'transformer',
  description: 'Turns nested objects into top-level properties: address.city becomes address__city.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      depth: { type: 'integer', minimum: 1, default: 1 },
      separator: { type: 'string', minLength: 1, default: '__' },
    },
  },
  create: ({ depth = 1, separator = '__' }) => {
    const flatSchema = (
      properties: Record<string, JsonSchema>,
      level: number,
      prefix: string,
    ): Record<string, JsonSchema> => {
      const out: Record<string, JsonSchema> = {};
      for (const [name, property] of Object.entries(properties)) {
        const nested = isObject(property.properties)
          ? (property.properties as Record<string, JsonSchema>)
          : undefined;
        if (nested !== undefined && level < depth) {
          // A nested object may be null or absent: its properties may then be null too.
          for (const [flat, child] of Object.entries(
            flatSchema(nested, level + 1, `${prefix}${name}${separator}`),
          ))
            out[flat] = nullable(child);
        } else out[`${prefix}${name}`] = property;
      }
      return out;
    };
    const flatRecord = (record: JsonObject, level: number, prefix: string, out: JsonObject): JsonObject => {
      for (const [name, value] of Object.entries(record)) {
        if (isObject(value) && level < depth)
          flatRecord(value, level + 1, `${prefix}${name}${separator}`, out);
        else out[`${prefix}${name}`] = value;
      }
      return out;
    };
    return {
      schema: (shape) => ({
        ...shape,
        schema: {
          ...shape.schema,
          properties: flatSchema((shape.schema.properties ?? {}) as Record<string, JsonSchema>, 0, ''),
        },
      }),
      record: (_stream, record) =>
        Object.values(record).some(isObject) ? flatRecord(record, 0, '', {}) : record,
    };
  },
});

function nullable(schema: JsonSchema): JsonSchema {
  const type = schema.type;
  if (type === undefined) return schema;
  const types = Array.isArray(type) ? type : [type];
  return types.includes('null') ? schema : { ...schema, type: ['null', ...types] };
}
