import { describe, expect, it } from 'vitest';
import { connectionLost } from '../../../lib/destinations/postgres/connection-lost.ts';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('connectionLost', () => {
  it('a gone connection: class 08, 57P, a network error a COPY meets mid-write, or no code at all', () => {
    for (const code of ['08006', '08003', '57P01', '57P03', 'EPIPE', 'ECONNRESET', 'ETIMEDOUT'])
      expect(connectionLost(withCode(code)), code).toBe(true);
    expect(connectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('a statement the server refused is not: the load fails with its answer', () => {
    for (const code of ['23505', '22P02', '42P01', '22003', 'XX000', '40P01'])
      expect(connectionLost(withCode(code)), code).toBe(false);
  });
});
