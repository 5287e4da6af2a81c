import type { JsonObject, JsonSchema } from '../../protocol/messages.ts';
import { defineStep } from '../step.ts';

/**
 * `add_fields { fields: {name: value} }`: constants, and run metadata written as `$tap`, `$run` and
 * `$extracted_at` (when the record passed this step, as an ISO date-time).
 */
export const addFieldsStep = defineStep<{ fields: Record<string, unknown> }>({
  name: 'add_fields',
  kind: 'transformer',
  description: 'Adds properties: constants, or $tap, $run and $extracted_at.',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: {
        type: 'object',
        minProperties: 1,
        additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
      },
    },
  },
  create: ({ fields }, context) => {
    const value = (given: unknown): unknown =>
      given === '$tap'
        ? context.tap
        : given === '$run'
          ? context.run()
          : given === '$extracted_at'
            ? new Date().toISOString()
            : given;
    const schemaOf = (given: unknown): JsonSchema =>
      given === '$extracted_at'
        ? { type: 'string', format: 'date-time' }
        : given === null
          ? {}
          : {
              type:
                typeof given === 'number' ? (Number.isInteger(given) ? 'integer' : 'number') : typeof given,
            };
    return {
      schema: (shape) => ({
        ...shape,
        schema: {
          ...shape.schema,
          properties: {
            ...((shape.schema.properties ?? {}) as Record<string, unknown>),
            ...Object.fromEntries(Object.entries(fields).map(([name, given]) => [name, schemaOf(given)])),
          },
        },
      }),
      record: (_stream, record) => {
        const out: JsonObject = { ...record };
        for (const [name, given] of Object.entries(fields)) out[name] = value(given);
        return out;
      },
    };
  },
});
