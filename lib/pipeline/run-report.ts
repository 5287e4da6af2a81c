/** What a run did, per tap and stream, and how it is printed at the end of `trib run`. */
import type { StreamLoadCounts } from '../destinations/destination.ts';

export interface StreamReport extends StreamLoadCounts {
  readonly stream: string;
  recordsRead: number;
  /** API requests and retries the streamer made for this stream. */
  requests: number;
  retries: number;
}

export interface TapReport {
  readonly tap: string;
  run: string | undefined;
  status: 'succeeded' | 'failed' | 'skipped';
  error?: string;
  /** Chunks left by earlier runs that this run loaded first. */
  chunksCaughtUp: number;
  chunksStaged: number;
  chunksLoaded: number;
  readonly streams: Map<string, StreamReport>;
  durationMs: number;
  readonly bookmarkBefore: unknown;
  bookmarkAfter: unknown;
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
    const rows = [['stream', 'read', 'inserted', 'updated', 'deleted']];
    for (const stream of report.streams.values()) {
      rows.push([
        stream.stream,
        ...[stream.recordsRead, stream.inserted, stream.updated, stream.deleted].map(formatCount),
      ]);
    }
    if (rows.length > 1) lines.push(...table(rows).map((row) => `  ${row}`));
    const caughtUp =
      report.chunksCaughtUp > 0 ? `, ${report.chunksCaughtUp} left by earlier runs loaded first` : '';
    lines.push(`  chunks: ${report.chunksStaged} staged, ${report.chunksLoaded} loaded${caughtUp}`);
    lines.push(`  bookmark: ${summarise(report.bookmarkBefore)} → ${summarise(report.bookmarkAfter)}`);
    if (report.error !== undefined) lines.push(`  error: ${report.error.replaceAll('\n', '\n    ')}`);
  }
  return lines.join('\n');
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

function table(rows: string[][]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  '),
  );
}

/** A bookmark in one short line: JSON, cut to fit a terminal. */
export function summarise(bookmark: unknown): string {
  if (bookmark === undefined) return '(none)';
  const text = JSON.stringify(bookmark);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
