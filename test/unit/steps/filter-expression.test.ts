import { describe, expect, it } from 'vitest';
import { parseJsonExactly } from '../../../lib/protocol/exact-json.ts';
import { compileFilter, FilterSyntaxError } from '../../../lib/steps/filter-expression.ts';

const order = {
  status: 'paid',
  amount: 25.5,
  country: 'DE',
  address: { city: 'Berlin' },
  deleted_at: null,
  seats: 3,
};

describe('filter expressions', () => {
  it.each([
    ["status != 'refunded' and amount > 10", true],
    ["status = 'refunded' or amount > 100", false],
    ["country in ('DE', 'FR')", true],
    ["country not in ['DE', 'FR']", false],
    ['not exists(deleted_at)', true],
    ['address.city exists and address.city == "Berlin"', true],
    ["(status = 'paid' or seats >= 5) and not (amount < 10)", true],
    ['missing > 1', false],
    ["amount > 'ten'", false],
    ['seats <= 3 and seats >= 3', true],
  ])('%s → %s', (source, expected) => {
    expect(compileFilter(source).matches(order)).toBe(expected);
  });

  it('compares exact numbers as numbers', () => {
    const record = parseJsonExactly('{"id": 12345678901234567890}') as Record<string, unknown>;
    expect(compileFilter('id > 1').matches(record)).toBe(true);
  });

  it.each([
    ["status = 'paid", /a string opened at character 10 is never closed/],
    ['amount >', /expected a field or a value at character 9, found the end/],
    ['amount > 1 amount', /expected the end of the expression at character 12/],
    ["country in 'DE'", /expected a list such as \(1, 2\) after in at character 12/],
    ['status ~ 1', /unexpected "~" at character 8/],
  ])('refuses %s, naming where', (source, message) => {
    expect(() => compileFilter(source)).toThrow(FilterSyntaxError);
    expect(() => compileFilter(source)).toThrow(message);
  });
});
