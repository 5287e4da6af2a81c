import { stringifyExact } from '../../protocol/exact-json.ts';
import type { JsonObject } from '../../protocol/messages.ts';
import { defineStep, StepError } from '../step.ts';

/**
 * `expect`: assertions over what a run read, per stream, checked at its end: a row count range,
 * the share of non-null values of fields, and fields whose values are unique. `on_fail: fail` fails the
 * run (its records are loaded already: like a test after a load, it is there to be alerted on);
 * `warn` writes the finding in the report. Uniqueness keeps each value seen, so use it on keys.
 */
export const expectStep = defineStep<{
  rows?: { min?: number; max?: number };
  not_null?: Record<string, number> | string[];
  unique?: string[];
  on_fail?: 'fail' | 'warn';
}>({
  name: 'expect',
  kind: 'inspector',
  description: 'Checks a run: row counts, non-null shares, unique values; fails the run or warns.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      rows: {
        type: 'object',
        additionalProperties: false,
        properties: { min: { type: 'integer', minimum: 0 }, max: { type: 'integer', minimum: 0 } },
      },
      not_null: {
        oneOf: [
          { type: 'array', items: { type: 'string', minLength: 1 } },
          { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } },
        ],
      },
      unique: { type: 'array', items: { type: 'string', minLength: 1 } },
      on_fail: { enum: ['fail', 'warn'], default: 'fail' },
    },
  },
  create: ({ rows, not_null: notNull = {}, unique = [], on_fail: onFail = 'fail' }, context) => {
    const shares: Record<string, number> = Array.isArray(notNull)
      ? Object.fromEntries(notNull.map((field) => [field, 1]))
      : notNull;
    const streams = new Map<
      string,
      {
        records: number;
        present: Map<string, number>;
        seen: Map<string, Set<string>>;
        duplicates: Map<string, string>;
      }
    >();
    return {
      record: (stream, record: JsonObject) => {
        const entry = streams.get(stream) ?? {
          records: 0,
          present: new Map(),
          seen: new Map(),
          duplicates: new Map(),
        };
        streams.set(stream, entry);
        entry.records += 1;
        for (const field of Object.keys(shares))
          if (record[field] !== null && record[field] !== undefined)
            entry.present.set(field, (entry.present.get(field) ?? 0) + 1);
        for (const field of unique) {
          const value = stringifyExact(record[field] ?? null);
          const seen = entry.seen.get(field) ?? new Set<string>();
          entry.seen.set(field, seen);
          if (seen.has(value) && !entry.duplicates.has(field)) entry.duplicates.set(field, value);
          seen.add(value);
        }
        return record;
      },
      finish: () => {
        const failures: string[] = [];
        for (const [stream, entry] of streams) {
          if (rows?.min !== undefined && entry.records < rows.min)
            failures.push(`${stream}: ${entry.records} rows, expected at least ${rows.min}`);
          if (rows?.max !== undefined && entry.records > rows.max)
            failures.push(`${stream}: ${entry.records} rows, expected at most ${rows.max}`);
          for (const [field, share] of Object.entries(shares)) {
            const actual = entry.records === 0 ? 1 : (entry.present.get(field) ?? 0) / entry.records;
            if (actual < share)
              failures.push(
                `${stream}: ${field} is set in ${(actual * 100).toFixed(1)}% of rows, expected at least ${(share * 100).toFixed(1)}%`,
              );
          }
          for (const [field, value] of entry.duplicates)
            failures.push(`${stream}: ${field} is not unique (${value.slice(0, 40)} more than once)`);
        }
        for (const failure of failures) context.note(`expectation not met: ${failure}`);
        if (failures.length > 0 && onFail === 'fail')
          throw new StepError(
            `expect: ${failures.join('; ')}. The records are loaded; look at the source or loosen the expectation (on_fail: warn reports without failing).`,
          );
      },
    };
  },
});
