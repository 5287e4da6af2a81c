import { stringifyExact } from '../../protocol/exact-json.ts';
import { defineStep } from '../step.ts';

/** `log { sample: N, every: M }`: writes the first N records of each stream, then every Mth, to the log. */
export const logStep = defineStep<{ sample?: number; every?: number }>({
  name: 'log',
  kind: 'inspector',
  description: 'Logs sample records of each stream (stderr locally, the function log in AWS).',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      sample: { type: 'integer', minimum: 0, default: 3 },
      every: { type: 'integer', minimum: 1 },
    },
  },
  create: ({ sample = 3, every }, context) => {
    const counts = new Map<string, number>();
    return {
      record: (stream, record) => {
        const count = (counts.get(stream) ?? 0) + 1;
        counts.set(stream, count);
        if (count <= sample || (every !== undefined && count % every === 0))
          context.log(`log: ${stream} #${count}: ${stringifyExact(record).slice(0, 500)}`);
        return record;
      },
    };
  },
});
