import type { JsonObject } from '../../protocol/messages.ts';
import { defineStep } from '../step.ts';

/** `select { fields: [...] }`: keeps only these top-level properties, and always the stream's keys. */
export const selectStep = defineStep<{ fields: string[] }>({
  name: 'select',
  kind: 'transformer',
  description: "Keeps only the listed top-level properties (and always the stream's keys).",
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: { fields: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } },
  },
  create: ({ fields }) => {
    const kept = new Map<string, Set<string>>();
    return {
      schema: (shape) => {
        const keep = new Set([...fields, ...shape.keyProperties]);
        kept.set(shape.stream, keep);
        const properties = (shape.schema.properties ?? {}) as Record<string, unknown>;
        return {
          ...shape,
          schema: {
            ...shape.schema,
            properties: Object.fromEntries(Object.entries(properties).filter(([name]) => keep.has(name))),
          },
        };
      },
      record: (stream, record) => {
        const keep = kept.get(stream) ?? new Set(fields);
        if (Object.keys(record).every((name) => keep.has(name))) return record;
        const out: JsonObject = {};
        for (const [name, value] of Object.entries(record)) if (keep.has(name)) out[name] = value;
        return out;
      },
    };
  },
});
