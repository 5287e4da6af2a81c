import { getPath, schemaAt, splitPath, withPath, withSchemaAt } from '../field-paths.ts';
import { defineStep } from '../step.ts';

/** `mask { fields, keep_last: N }`: every character but the last N becomes `*` (`************4242`). */
export const maskStep = defineStep<{ fields: string[]; keep_last?: number }>({
  name: 'mask',
  kind: 'transformer',
  description: 'Masks values but their last characters, e.g. card numbers and phone numbers.',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      keep_last: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  create: ({ fields, keep_last: keepLast = 0 }) => {
    const paths = fields.map(splitPath);
    return {
      schema: (shape) => ({
        ...shape,
        schema: paths.reduce(
          (schema, path) =>
            schemaAt(schema, path) === undefined
              ? schema
              : withSchemaAt(schema, path, { type: ['null', 'string'] }),
          shape.schema,
        ),
      }),
      record: (_stream, record) =>
        paths.reduce((current, path) => {
          const value = getPath(current, path);
          if (value === undefined || value === null) return current;
          const text = [...String(value)];
          const shown = keepLast === 0 ? [] : text.slice(-keepLast);
          return withPath(current, path, '*'.repeat(text.length - shown.length) + shown.join(''));
        }, record),
    };
  },
});
