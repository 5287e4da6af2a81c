import { compileFilter, FilterSyntaxError } from '../filter-expression.ts';
import { defineStep, StepConfigError } from '../step.ts';

/** `filter { where: "status != 'refunded' and amount > 10" }`: keeps the records that match. */
export const filterStep = defineStep<{ where: string }>({
  name: 'filter',
  kind: 'transformer',
  description: 'Keeps only the records that match an expression (see the filter expression language).',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['where'],
    properties: { where: { type: 'string', minLength: 1 } },
  },
  check: ({ where }) => {
    try {
      compileFilter(where);
      return undefined;
    } catch (error) {
      return `where: ${JSON.stringify(where)}: ${(error as Error).message}`;
    }
  },
  create: ({ where }) => {
    let filter: ReturnType<typeof compileFilter>;
    try {
      filter = compileFilter(where);
    } catch (error) {
      if (error instanceof FilterSyntaxError)
        throw new StepConfigError(`filter: where: ${JSON.stringify(where)}: ${error.message}`);
      throw error;
    }
    return { record: (_stream, record) => (filter.matches(record) ? record : null) };
  },
});
