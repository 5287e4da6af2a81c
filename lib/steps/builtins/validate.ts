import { RecordChecks, type StreamRecordCheck } from '../../persister/record-check.ts';
import type { SchemaMessage } from '../../protocol/messages.ts';
import { compileFilter } from '../filter-expression.ts';
import { defineStep, StepError } from '../step.ts';

/**
 * `validate { on_invalid: quarantine | fail | drop, rules: [expression…] }`: each record against its
 * stream's schema and the values its columns hold (the persister's own check), and the rules, filter
 * expressions it must match. `quarantine` sets a bad record aside in
 * `<stream>__quarantine` with the reason and the run, so the rest of the chunk loads; `fail` stops the
 * run before it, as without this step; `drop` leaves it out, counted in the report.
 */
export const validateStep = defineStep<{ on_invalid?: 'quarantine' | 'fail' | 'drop'; rules?: string[] }>({
  name: 'validate',
  kind: 'inspector',
  description: 'Checks records against their schema: quarantine, fail or drop the invalid ones.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      on_invalid: { enum: ['quarantine', 'fail', 'drop'], default: 'quarantine' },
      rules: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'filter expressions every record must also match, e.g. "amount >= 0"',
      },
    },
  },
  check: ({ rules = [] }) => {
    for (const rule of rules)
      try {
        compileFilter(rule);
      } catch (error) {
        return `rules: ${JSON.stringify(rule)}: ${(error as Error).message}`;
      }
    return undefined;
  },
  create: ({ on_invalid: onInvalid = 'quarantine', rules = [] }, context) => {
    const checks = new RecordChecks();
    const compiled = rules.map(compileFilter);
    const streams = new Map<string, { check: StreamRecordCheck; seen: number }>();
    return {
      schema: (shape) => {
        const message: SchemaMessage = {
          type: 'SCHEMA',
          stream: shape.stream,
          schema: shape.schema,
          keyProperties: shape.keyProperties,
        };
        streams.set(shape.stream, { check: checks.forSchema(message), seen: 0 });
        return shape;
      },
      record: (stream, record) => {
        const known = streams.get(stream);
        if (known === undefined) return record;
        known.seen += 1;
        const checked = known.check.check(record);
        const broken = checked.ok ? compiled.find((rule) => !rule.matches(record)) : undefined;
        const result =
          checked.ok && broken !== undefined
            ? { ok: false as const, problem: `it breaks the rule ${JSON.stringify(broken.source)}` }
            : checked;
        if (result.ok) return record;
        if (onInvalid === 'fail')
          throw new StepError(`validate: record ${known.seen} of stream ${stream}: ${result.problem}`);
        context.flag(stream, result.problem);
        if (onInvalid === 'quarantine') context.quarantine(stream, record, result.problem);
        return null;
      },
    };
  },
});
