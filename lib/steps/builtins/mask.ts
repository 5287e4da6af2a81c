import { replacingValues, splitPath } from '../field-paths.ts';
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
    return replacingValues(fields.map(splitPath), (value) => {
      const text = [...String(value)];
      const shown = keepLast === 0 ? [] : text.slice(-keepLast);
      return '*'.repeat(text.length - shown.length) + shown.join('');
    });
  },
});
