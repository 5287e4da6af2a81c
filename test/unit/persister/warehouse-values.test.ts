import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timestampValueByPattern, warehouseValue } from '../../../lib/persister/warehouse-values.ts';
import { parseExact } from '../../../lib/protocol/exact-json.ts';

const timestamp = { kind: 'timestamp' } as const;
const ok = (value: unknown) => ({ ok: true, value });

describe('values a warehouse column takes', () => {
  it('leaves canonical date-times as they are, so the fast load path keeps the original line', () => {
    for (const text of ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.123456Z', '2024-03-01T12:00:00+02:00'])
      expect(warehouseValue(text, timestamp, false)).toEqual(ok(text));
  });

  it('decides every date-time spelling as the general rule does (the canonical fast path included)', () => {
    const pad = (value: number, width: number) => String(value).padStart(width, '0');
    const spelling = fc
      .record({
        year: fc.integer({ min: 0, max: 9999 }),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.integer({ min: 0, max: 32 }),
        hour: fc.integer({ min: 0, max: 24 }),
        minute: fc.integer({ min: 0, max: 60 }),
        second: fc.integer({ min: 0, max: 61 }),
        fraction: fc.stringMatching(/^(\.\d{0,9})?$/),
        separator: fc.constantFrom('T', 't', ' ', 'x'),
        zone: fc.constantFrom('Z', 'z', '', '+01:00', '-0530', '+24:00', 'Zx'),
      })
      .map(
        (t) =>
          `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}${t.separator}${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${t.fraction}${t.zone}`,
      );
    fc.assert(
      fc.property(spelling, fc.boolean(), (text, isKey) => {
        expect(warehouseValue(text, { kind: 'timestamp' }, isKey)).toEqual(
          timestampValueByPattern(text, isKey),
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes a double into DECIMAL(38, scale) exactly when its shortest text fits the digits and places', () => {
    const fits = (value: number, scale: number) => {
      const [mantissa = '0', exponentText = '0'] = Math.abs(value).toExponential().split('e');
      const exponent = Number(exponentText);
      const digits = mantissa.replace('.', '').replace(/0+$/, '') || '0';
      const integerDigits = value === 0 ? 0 : Math.max(0, exponent + 1);
      const fractionDigits = Math.max(0, digits.length - 1 - exponent);
      return integerDigits <= 38 - scale && fractionDigits <= scale;
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc
            .tuple(fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), fc.integer({ min: 0, max: 12 }))
            .map(([digits, places]) => digits / 10 ** places),
          fc.constantFrom(1e36, 9.99e35, 1e37, -1e36, 1e-7, 0.1 + 0.2),
        ),
        fc.integer({ min: 0, max: 12 }),
        (value, scale) => {
          expect(warehouseValue(value, { kind: 'decimal', scale }, false).ok).toBe(fits(value, scale));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('writes other spellings canonically: case, leap seconds, more than microseconds, key offsets in UTC', () => {
    expect(warehouseValue('2024-03-01t10:00:00z', timestamp, false)).toEqual(ok('2024-03-01T10:00:00Z'));
    expect(warehouseValue('2016-12-31T23:59:60Z', timestamp, false)).toEqual(ok('2017-01-01T00:00:00Z'));
    expect(warehouseValue('2024-03-01T10:00:00.123456789Z', timestamp, false)).toEqual(
      ok('2024-03-01T10:00:00.123456Z'),
    );
    expect(warehouseValue('2024-03-01T00:30:00.5+01:00', timestamp, true)).toEqual(
      ok('2024-02-29T23:30:00.5Z'),
    );
    expect(warehouseValue('2024-03-01T12:00:00-0230', timestamp, true)).toEqual(ok('2024-03-01T14:30:00Z'));
  });

  it('refuses what is not on the calendar, saying why', () => {
    expect(warehouseValue('2023-02-29T00:00:00Z', timestamp, false)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/February 2023 has 28 days/),
    });
    expect(warehouseValue('2000-02-29', { kind: 'date' }, false)).toEqual(ok('2000-02-29'));
    expect(warehouseValue('1900-02-29', { kind: 'date' }, false)).toMatchObject({ ok: false });
    expect(warehouseValue('2024-13-01', { kind: 'date' }, false)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/there is no month 13/),
    });
  });

  it('refuses integers beyond 64 bits and decimals beyond DECIMAL(38, scale), exact or not', () => {
    const wide = (parseExact('{"n":9223372036854775808}') as { n: unknown }).n;
    const edge = (parseExact('{"n":9223372036854775807}') as { n: unknown }).n;
    expect(warehouseValue(wide, { kind: 'integer' }, false)).toMatchObject({ ok: false });
    expect(warehouseValue(edge, { kind: 'integer' }, false)).toEqual(ok(edge));
    expect(warehouseValue(1e30, { kind: 'integer' }, false)).toMatchObject({ ok: false });
    expect(warehouseValue(12.5, { kind: 'integer' }, false)).toEqual(ok(12.5)); // the schema check's to refuse
    expect(warehouseValue(1e36, { kind: 'decimal', scale: 2 }, false)).toMatchObject({ ok: false });
    expect(warehouseValue(1e35, { kind: 'decimal', scale: 2 }, false)).toEqual(ok(1e35));
  });

  it('refuses decimals with more places than the column keeps, instead of rounding them (#14.4)', () => {
    // An unconstrained PostgreSQL numeric arrives with multipleOf 1e-38; its column keeps 18 places.
    const long = (parseExact('{"n":0.1234567890123456789012}') as { n: unknown }).n;
    const decimal18 = { kind: 'decimal', scale: 18 } as const;
    expect(warehouseValue(long, decimal18, false)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(
        /has 22 digits after the point; its column is DECIMAL\(38,18\), which would round it/,
      ),
    });
    expect(warehouseValue(12.5, { kind: 'decimal', scale: 2 }, false)).toEqual(ok(12.5));
    expect(warehouseValue(12.5, { kind: 'decimal', scale: 0 }, false)).toMatchObject({ ok: false });
    expect(warehouseValue(1.5e-3, { kind: 'decimal', scale: 4 }, false)).toEqual(ok(1.5e-3));
    expect(warehouseValue(1.5e-3, { kind: 'decimal', scale: 3 }, false)).toMatchObject({ ok: false });
    expect(warehouseValue(120, { kind: 'decimal', scale: 0 }, false)).toEqual(ok(120));
  });
});
