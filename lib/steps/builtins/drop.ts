import { splitPath, withoutPath, withSchemaAt } from '../field-paths.ts';
import { defineStep, StepConfigError } from '../step.ts';

/** `drop { fields: [a, b.c] }`: removes properties; dotted paths reach nested ones. */
export const dropStep = defineStep<{ fields: string[] }>({
  name: 'drop',
  kind: 'transformer',
  description: 'Removes properties (dotted paths reach nested ones).',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: { fields: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } },
  },
  create: ({ fields }) => {
    const paths = fields.map(splitPath);
    return {
      schema: (shape) => {
        for (const key of shape.keyProperties)
          if (fields.includes(key))
            throw new StepConfigError(
              `drop: ${key} is a key of stream ${shape.stream}; a key cannot be dropped (hash it instead)`,
            );
        return {
          ...shape,
          schema: paths.reduce((schema, path) => withSchemaAt(schema, path, undefined), shape.schema),
        };
      },
      record: (_stream, record) => paths.reduce((current, path) => withoutPath(current, path), record),
    };
  },
});
