import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../lib/push/event-id.ts';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID whose first 48 bits are the milliseconds', () => {
    const id = uuidv7(0x0123456789ab);
    expect(id).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(
      Number.parseInt(
        uuidv7(Date.UTC(2026, 0, 1))
          .replace(/-/g, '')
          .slice(0, 12),
        16,
      ),
    ).toBe(Date.UTC(2026, 0, 1));
  });

  it('sorts by time, and ids of one millisecond differ', () => {
    const ids = [uuidv7(1_000), uuidv7(2_000), uuidv7(2_000), uuidv7(3_000)];
    expect([...ids].sort()).toEqual(ids.slice(0, 1).concat([...ids.slice(1, 3)].sort(), ids.slice(3)));
    expect(new Set(Array.from({ length: 10_000 }, () => uuidv7(5)))).toHaveProperty('size', 10_000);
  });
});
