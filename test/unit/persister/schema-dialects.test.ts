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

  it('decides powers-of-ten steps by the decimals of the shortest text, as the decimal arithmetic does', () => {
    // The oracle: the value's shortest text as digits × 10^-scale, a multiple of 10^-places when the
    // scale is at most that (exponent forms included).
    const scaleOf = (value: number) => {
      const [mantissa = '0', exponent = '0'] = value.toExponential().split('e');
      const fraction = mantissa.split('.')[1] ?? '';
      return Math.max(0, fraction.length - Number(exponent));
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          // money-like values with a few decimals, near the 2^52 edge of the fast path too
          fc
            .tuple(fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), fc.integer({ min: 0, max: 17 }))
            .map(([digits, places]) => digits / 10 ** places),
        ),
        fc.integer({ min: 0, max: 15 }),
        (value, places) => {
          expect(isMultipleOf(value, Number(`1e-${places}`))).toBe(scaleOf(value) <= places);
        },
      ),
      { numRuns: 20_000 },
    );
    expect(isMultipleOf(12.34, 0.01)).toBe(true);
    expect(isMultipleOf(12.345, 0.01)).toBe(false);
    expect(isMultipleOf(1e-7, 1e-7)).toBe(true);
    expect(isMultipleOf(1.5e-7, 1e-7)).toBe(false);
    expect(isMultipleOf(3, 1)).toBe(true);
  });
});
