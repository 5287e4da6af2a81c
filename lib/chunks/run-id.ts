import { randomBytes } from 'node:crypto';

/**
 * A new run id: UTC time to the millisecond, then randomness, e.g. `20261123T101500123Z-3f9a1c`.
 * Ids sort by start time (the state store relies on it) and are safe in paths and S3 keys.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
