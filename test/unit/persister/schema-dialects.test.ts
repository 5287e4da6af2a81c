import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asDraft7, isMultipleOf } from '../../../lib/persister/schema-dialects.ts';

describe('JSON Schema as taps write it', () => {
  it('rewrites draft-4 boolean bounds into their draft-7 form, anywhere in the schema', () => {
    expect(
      asDraft7({
        properties: {
          a: { type: 'integer', maximum: 10, exclusiveMaximum: true, minimum: 0, exclusiveMinimum: false },
          b: { anyOf: [{ type: 'number', minimum: 1, exclusiveMinimum: true }] },
        },
      }),
    ).toEqual({
      properties: {
        a: { type: 'integer', exclusiveMaximum: 10, minimum: 0 },
        b: { anyOf: [{ type: 'number', exclusiveMinimum: 1 }] },
      },
    });
  });

  it('checks multipleOf in decimal arithmetic: every two-decimal amount is a multiple of 0.01', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000_000, max: 10_000_000_000 }), (cents) => {
        expect(isMultipleOf(cents / 100, 0.01)).toBe(true);
        expect(isMultipleOf(cents / 100 + 0.001, 0.01)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
    expect(isMultipleOf(965.3177, 0.0001)).toBe(true);
    expect(isMultipleOf(1e21, 0.5)).toBe(true);
    expect(isMultipleOf(7, 2)).toBe(false);
  });
});
