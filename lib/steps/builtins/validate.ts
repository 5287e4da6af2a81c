import { RecordChecks, type StreamRecordCheck } from '../../persister/record-check.ts';
import type { SchemaMessage } from '../../protocol/messages.ts';
import { defineStep, StepError } from '../step.ts';

/**
 * `validate { on_invalid: quarantine | fail | drop }`: each record against its stream's schema and the
 * values its columns hold (the persister's own check). `quarantine` sets a bad record aside in
 * `<stream>__quarantine` with the reason and the run, so the rest of the chunk loads; `fail` stops the
 * run before it, as without this step; `drop` leaves it out, counted in the report.
 */
export const validateStep = defineStep<{ on_invalid?: 'quarantine' | 'fail' | 'drop' }>({
  name: 'validate',
  kind: 'inspector',
  description: 'Checks records against their schema: quarantine, fail or drop the invalid ones.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: { on_invalid: { enum: ['quarantine', 'fail', 'drop'], default: 'quarantine' } },
  },
  create: ({ on_invalid: onInvalid = 'quarantine' }, context) => {
    const checks = new RecordChecks();
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
        const result = known.check.check(record);
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
