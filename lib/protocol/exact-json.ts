/**
 * JSON numbers that a double cannot hold exactly (integers beyond 2^53, decimals with more than 15
 * significant digits) must reach the warehouse as written. `JSON.parse` is five times faster than a
 * lossless parser, so we use it always and re-read a line losslessly only when it could hold such a
 * number: a run of 16 or more digits and dots.
 */
import { isSafeNumber, LosslessNumber, parse, stringify } from 'lossless-json';

const MAYBE_INEXACT_NUMBER = /[\d.]{16,}/;

export function mayHoldInexactNumber(line: string): boolean {
  return MAYBE_INEXACT_NUMBER.test(line);
}

/**
 * Parses `text` keeping unsafe numbers as `LosslessNumber`. Returns undefined when every number in it
 * is safe as a double, so callers keep only the fast representation.
 */
export function parseExact(text: string): unknown {
  let inexact = false;
  const value = parse(text, null, (digits: string) => {
    if (isSafeNumber(digits, { approx: false })) return Number(digits);
    inexact = true;
    return new LosslessNumber(digits);
  });
  return inexact ? value : undefined;
}

/** Serialises a value that may hold `LosslessNumber`s, writing their exact digits. */
export function stringifyExact(value: unknown): string {
  return stringify(value) ?? 'null';
}

export function isExactNumber(value: unknown): value is LosslessNumber {
  return value instanceof LosslessNumber;
}
