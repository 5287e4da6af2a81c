import type { JsonObject } from '../../protocol/messages.ts';
import { defineStep } from '../step.ts';

interface FieldSummary {
  values: number;
  nulls: number;
  min?: number | string;
  max?: number | string;
}

/** `summarize`: per stream and top-level field, values, nulls, and the smallest and largest, in the report. */
export const summarizeStep = defineStep<{ fields?: string[] }>({
  name: 'summarize',
  kind: 'inspector',
  description: 'Counts values and nulls per field, with their min and max, for the run report.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: { fields: { type: 'array', items: { type: 'string', minLength: 1 } } },
  },
  create: ({ fields }, context) => {
    const streams = new Map<string, { records: number; fields: Map<string, FieldSummary> }>();
    const observe = (summary: FieldSummary, value: unknown) => {
      if (value === null || value === undefined) {
        summary.nulls += 1;
        return;
      }
      summary.values += 1;
      if (typeof value !== 'number' && typeof value !== 'string') return;
      if (summary.min === undefined || value < summary.min) summary.min = value;
      if (summary.max === undefined || value > summary.max) summary.max = value;
    };
    return {
      record: (stream, record: JsonObject) => {
        const entry = streams.get(stream) ?? { records: 0, fields: new Map<string, FieldSummary>() };
        streams.set(stream, entry);
        entry.records += 1;
        const names = fields ?? [...new Set([...entry.fields.keys(), ...Object.keys(record)])];
        for (const name of names) {
          // A field first seen late was null (absent) in the records before.
          const summary = entry.fields.get(name) ?? { values: 0, nulls: entry.records - 1 };
          entry.fields.set(name, summary);
          observe(summary, record[name]);
        }
        return record;
      },
      finish: () => {
        for (const [stream, entry] of streams) {
          const parts = [...entry.fields].map(([name, summary]) => {
            const range =
              summary.min === undefined
                ? ''
                : ` ${JSON.stringify(summary.min)}…${JSON.stringify(summary.max)}`;
            return `${name} ${summary.values}/${entry.records}${summary.nulls > 0 ? ` (${summary.nulls} null)` : ''}${range}`;
          });
          context.note(`${stream}: ${entry.records} records; ${parts.join('; ')}`);
        }
      },
    };
  },
});
