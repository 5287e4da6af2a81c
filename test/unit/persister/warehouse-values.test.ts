import { describe, expect, it } from 'vitest';
import { warehouseValue } from '../../../lib/persister/warehouse-values.ts';
import { parseExact } from '../../../lib/protocol/exact-json.ts';

const timestamp = { kind: 'timestamp' } as const;
const ok = (value: unknown) => ({ ok: true, value });

describe('values a warehouse column takes', () => {
  it('leaves canonical date-times as they are, so the fast load path keeps the original line', () => {
    for (const text of ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.123456Z', '2024-03-01T12:00:00+02:00'])
      expect(warehouseValue(text, timestamp, false)).toEqual(ok(text));
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
