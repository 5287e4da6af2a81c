import { randomBytes } from 'node:crypto';

/**
 * A run id: `r` and the run's number from the state store, then the UTC start time and randomness,
 * e.g. `r0000000042-20261123T101500123Z-3f9a1c`. Ids sort by run number, never by a clock (a host whose
 * clock is behind still makes a later run), sort after the time-only ids of earlier versions, and are
 * safe in paths and S3 keys.
 */
export function newRunId(runNumber: number, now: Date = new Date()): string {
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace('.', '');
  return `r${String(runNumber).padStart(10, '0')}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** An id for a load that is not a run of a tap (`trib persist` from stdin): time-ordered, unique. */
export function streamRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
