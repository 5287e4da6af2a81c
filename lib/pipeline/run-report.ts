/** What a run did, per tap and stream, and how it is printed at the end of `trib run`. */
import type { StreamLoadCounts } from '../destinations/destination.ts';
import type { StepReport } from '../steps/run-steps.ts';
import { bookmarkLines } from './describe-bookmark.ts';
import { textTable } from './text-table.ts';

export interface StreamReport extends StreamLoadCounts {
  readonly stream: string;
  recordsRead: number;
  /** API requests and retries the streamer made for this stream. */
  requests: number;
  retries: number;
  /** What the source said this stream would read in this run, when it said (for an ETA). */
  expectedRecords?: number;
  /** Why the stream failed, when it did (its bookmark stays where it was; the others go on). */
  failure?: string;
}

export interface TapReport {
  readonly tap: string;
  run: string | undefined;
  status: 'succeeded' | 'failed' | 'skipped' | 'interrupted';
  error?: string;
  /** Chunks left by earlier runs that this run loaded first. */
  chunksCaughtUp: number;
  chunksStaged: number;
  chunksLoaded: number;
  readonly streams: Map<string, StreamReport>;
  durationMs: number;
  readonly bookmarkBefore: unknown;
  bookmarkAfter: unknown;
  /** Per step of the tap's pipeline: records in and out, changed, dropped, flagged, time. */
  steps?: readonly StepReport[];
}

export function streamReport(report: TapReport, stream: string): StreamReport {
  let found = report.streams.get(stream);
  if (found === undefined) {
    found = { stream, recordsRead: 0, inserted: 0, updated: 0, deleted: 0, requests: 0, retries: 0 };
    report.streams.set(stream, found);
  }
  return found;
}

export function formatRunReport(reports: readonly TapReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    const seconds = (report.durationMs / 1000).toFixed(1);
    const status = report.status === 'succeeded' ? 'ok' : report.status.toUpperCase();
    lines.push(`tap ${report.tap}  [${status}]  run ${report.run ?? '-'}  ${seconds}s`);
    const rows = [['stream', 'read', 'inserted', 'updated', 'deleted', '']];
    for (const stream of report.streams.values()) {
      rows.push([
        stream.stream,
        ...[stream.recordsRead, stream.inserted, stream.updated, stream.deleted].map(formatCount),
        stream.failure === undefined ? (report.status === 'skipped' ? '' : 'ok') : 'FAILED',
      ]);
    }
    if (rows.length > 1)
      lines.push(...textTable(rows, (column) => column > 0 && column < 5).map((row) => `  ${row}`));
    for (const stream of report.streams.values())
      if (stream.failure !== undefined) lines.push(`  ${stream.stream} failed: ${stream.failure}`);
    if (report.steps !== undefined && report.steps.length > 0) {
      const stepRows = [['step', 'in', 'out', 'changed', 'dropped', 'flagged', 'quarantined', 'time']];
      for (const step of report.steps)
        stepRows.push([
          step.label,
          ...[step.in, step.out, step.changed, step.dropped, step.flagged, step.quarantined].map(formatCount),
          `${(step.ms / 1000).toFixed(2)}s`,
        ]);
      lines.push(...textTable(stepRows, (column) => column > 0).map((row) => `  ${row}`));
      for (const step of report.steps) for (const note of step.notes) lines.push(`  ${step.label}: ${note}`);
    }
    if (report.status !== 'skipped') {
      const caughtUp =
        report.chunksCaughtUp > 0 ? `, ${report.chunksCaughtUp} left by earlier runs loaded first` : '';
      lines.push(`  chunks: ${report.chunksStaged} staged, ${report.chunksLoaded} loaded${caughtUp}`);
      const bookmark = bookmarkLines(report.bookmarkAfter, report.bookmarkBefore);
      if (bookmark.length === 1) lines.push(`  bookmark: ${bookmark[0]}`);
      else lines.push('  bookmarks:', ...bookmark.map((line) => `    ${line}`));
    }
    if (report.error !== undefined)
      lines.push(
        `  ${report.status === 'skipped' || report.status === 'interrupted' ? report.status : 'error'}: ${report.error.replaceAll('\n', '\n    ')}`,
      );
  }
  return lines.join('\n');
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
