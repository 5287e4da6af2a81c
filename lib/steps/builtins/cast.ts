import { isExactNumber } from '../../protocol/exact-json.ts';
import { defineStep, StepError } from '../step.ts';

type Target = 'string' | 'integer' | 'number' | 'boolean';

/** `cast { fields: {f: type} }`: converts values to string, integer, number or boolean, or fails naming the record. */
export const castStep = defineStep<{ fields: Record<string, Target> }>({
  name: 'cast',
  kind: 'transformer',
  description: 'Converts top-level values to string, integer, number or boolean.',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: {
        type: 'object',
        minProperties: 1,
        additionalProperties: { enum: ['string', 'integer', 'number', 'boolean'] },
      },
    },
  },
  create: ({ fields }) => {
    let seen = 0;
    return {
      schema: (shape) => {
        const properties = { ...((shape.schema.properties ?? {}) as Record<string, unknown>) };
        for (const [name, target] of Object.entries(fields))
          if (name in properties) properties[name] = { type: ['null', target] };
        return { ...shape, schema: { ...shape.schema, properties } };
      },
      record: (stream, record) => {
        seen += 1;
        let out = record;
        for (const [name, target] of Object.entries(fields)) {
          const value = record[name];
          if (value === undefined || value === null) continue;
          const cast = castValue(value, target);
          if (cast === undefined)
            throw new StepError(
              `cast: record ${seen} of stream ${stream}: ${name} is ${JSON.stringify(String(value)).slice(0, 60)}, which is not a${target === 'integer' ? 'n' : ''} ${target}. Fix the value at the source, or cast to string.`,
            );
          if (cast !== value) out = { ...out, [name]: cast };
        }
        return out;
      },
    };
  },
});

function castValue(value: unknown, target: Target): unknown {
  const text = isExactNumber(value) ? value.toString() : value;
  switch (target) {
    case 'string':
      return typeof text === 'string' ? text : JSON.stringify(text);
    case 'integer': {
      const number = numberOf(text);
      return Number.isSafeInteger(number) ? number : undefined;
    }
    case 'number': {
      const number = numberOf(text);
      return Number.isFinite(number) ? number : undefined;
    }
    case 'boolean':
      if (typeof text === 'boolean') return text;
      if (text === 'true' || text === 1 || text === '1') return true;
      if (text === 'false' || text === 0 || text === '0') return false;
      return undefined;
  }
}

/** A number, or a string that writes one; NaN for anything else (an empty string too). */
function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}
