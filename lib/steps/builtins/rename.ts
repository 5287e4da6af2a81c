import type { JsonObject } from '../../protocol/messages.ts';
import { defineStep } from '../step.ts';

/** `rename { fields: {old: new}, streams: {old: new} }`: top-level properties, and whole streams. */
export const renameStep = defineStep<{ fields?: Record<string, string>; streams?: Record<string, string> }>({
  name: 'rename',
  kind: 'transformer',
  description: 'Renames top-level properties (keys too) and streams.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      fields: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
      streams: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
    },
  },
  create: ({ fields = {}, streams = {} }) => {
    const renamed = (name: string) => fields[name] ?? name;
    return {
      schema: (shape) => {
        const properties = (shape.schema.properties ?? {}) as Record<string, unknown>;
        return {
          stream: streams[shape.stream] ?? shape.stream,
          schema: {
            ...shape.schema,
            properties: Object.fromEntries(
              Object.entries(properties).map(([name, value]) => [renamed(name), value]),
            ),
          },
          keyProperties: shape.keyProperties.map(renamed),
        };
      },
      record: (_stream, record) => {
        if (!Object.keys(record).some((name) => name in fields)) return record;
        const out: JsonObject = {};
        for (const [name, value] of Object.entries(record)) out[renamed(name)] = value;
        return out;
      },
    };
  },
});
