/**
 * How fast and how far a tap's run is, for progress lines and the summary: records read, records per
 * second, and an ETA where every stream read so far said how many it would read.
 */
import type { TapReport } from './run-report.ts';

export interface ProgressFigures {
  readonly records: number;
  readonly recordsPerSecond: number | undefined;
  /** Seconds left, when the source gave totals for the streams being read and the rate is known. */
  readonly etaSeconds: number | undefined;
  /** Records the totals add up to, when they are known. */
  readonly expected: number | undefined;
}

/**
 * `finished` says the run is over: its rate is then a measure of the whole run, shown however short
 * the run was; while it runs, a rate over less than a second is noise and none is given.
 */
export function progressFigures(
  report: TapReport,
  elapsedMs: number,
  { finished = false }: { finished?: boolean } = {},
): ProgressFigures {
  const streams = [...report.streams.values()];
  const records = streams.reduce((sum, stream) => sum + stream.recordsRead, 0);
  const recordsPerSecond = rateOf(records, elapsedMs, finished ? FINISHED_RATE_AFTER_MS : LIVE_RATE_AFTER_MS);
  const known = streams.length > 0 && streams.every((stream) => stream.expectedRecords !== undefined);
  const expected = known
    ? streams.reduce((sum, stream) => sum + Math.max(stream.expectedRecords ?? 0, stream.recordsRead), 0)
    : undefined;
  const etaSeconds =
    expected !== undefined && recordsPerSecond !== undefined
      ? (expected - records) / recordsPerSecond
      : undefined;
  return { records, recordsPerSecond, etaSeconds, expected };
}

const LIVE_RATE_AFTER_MS = 1000;
/** A finished run's rate is its whole run's: any measured duration will do. */
const FINISHED_RATE_AFTER_MS = 1;

/** Records per second; none before `afterMs` or when nothing was read. */
function rateOf(records: number, elapsedMs: number, afterMs: number): number | undefined {
  return elapsedMs >= afterMs && records > 0 ? records / (elapsedMs / 1000) : undefined;
}

export function formatRate(recordsPerSecond: number | undefined): string {
  return recordsPerSecond === undefined
    ? ''
    : `${Math.round(recordsPerSecond).toLocaleString('en-US')} records/s`;
}

export function formatSeconds(seconds: number): string {
  // Rounded up once, then split, so 119.5 s is 2m00s and never 1m60s.
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** One line across every tap of a run: what a person reads first, and what a log search finds. */
export function formatRunSummary(reports: readonly TapReport[]): string {
  const count = (status: TapReport['status']) => reports.filter((report) => report.status === status).length;
  const streams = reports.flatMap((report) => [...report.streams.values()]);
  const sum = (pick: (stream: (typeof streams)[number]) => number) =>
    streams.reduce((total, stream) => total + pick(stream), 0);
  const records = sum((stream) => stream.recordsRead);
  const ms = reports.reduce((total, report) => total + report.durationMs, 0);
  const statuses = (['succeeded', 'failed', 'interrupted', 'skipped'] as const)
    .filter((status) => count(status) > 0 || status === 'succeeded')
    .map((status) => `${count(status)} ${status}`)
    .join(', ');
  const rate = formatRate(rateOf(records, ms, FINISHED_RATE_AFTER_MS));
  const n = (value: number) => value.toLocaleString('en-US');
  const chunks = reports.reduce((total, report) => total + report.chunksLoaded + report.chunksCaughtUp, 0);
  return (
    `${reports.length} tap${reports.length === 1 ? '' : 's'}: ${statuses} · ${n(records)} records read · ` +
    `${n(sum((s) => s.inserted))} inserted, ${n(sum((s) => s.updated))} updated, ${n(sum((s) => s.deleted))} deleted · ` +
    `${n(chunks)} chunk${chunks === 1 ? '' : 's'} loaded · ` +
    `${(ms / 1000).toFixed(1)}s${rate === '' ? '' : ` (${rate})`}`
  );
}
