import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../lib/cli/progress.ts';
import { formatRunSummary, formatSeconds, progressFigures } from '../../lib/pipeline/progress-figures.ts';
import { streamReport, type TapReport } from '../../lib/pipeline/run-report.ts';

function report(
  tap: string,
  streams: Record<string, { read: number; expected?: number; inserted?: number }>,
) {
  const made: TapReport = {
    tap,
    run: 'r1',
    status: 'succeeded',
    chunksCaughtUp: 0,
    chunksStaged: 2,
    chunksLoaded: 2,
    streams: new Map(),
    durationMs: 4_000,
    bookmarkBefore: undefined,
    bookmarkAfter: undefined,
  };
  for (const [name, figures] of Object.entries(streams)) {
    const stream = streamReport(made, name);
    stream.recordsRead = figures.read;
    stream.inserted = figures.inserted ?? 0;
    if (figures.expected !== undefined) stream.expectedRecords = figures.expected;
  }
  return made;
}

/** A stream that keeps what is written; a terminal (isTTY, with cursor control) or a file. */
function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(piece, _encoding, done) {
      text += piece.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  if (!isTTY) return { stream, text: () => text };
  Object.assign(stream, {
    isTTY: true,
    columns: 200,
    rows: 40,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
  });
  return { stream, text: () => text };
}

describe('progress', () => {
  it('records/s from the elapsed time; an ETA only when every stream being read gave a total', () => {
    const half = progressFigures(
      report('t', { a: { read: 500, expected: 1_000 }, b: { read: 500, expected: 1_000 } }),
      2_000,
    );
    expect(half).toEqual({ records: 1_000, recordsPerSecond: 500, etaSeconds: 2, expected: 2_000 });
    const partly = progressFigures(
      report('t', { a: { read: 500, expected: 1_000 }, b: { read: 10 } }),
      2_000,
    );
    expect(partly.etaSeconds).toBeUndefined();
    expect(partly.recordsPerSecond).toBe(255);
    // A source that under-counted does not make the ETA negative.
    expect(progressFigures(report('t', { a: { read: 1_500, expected: 1_000 } }), 1_000).etaSeconds).toBe(0);
    expect(progressFigures(report('t', { a: { read: 3 } }), 200).recordsPerSecond).toBeUndefined();
    // A run that is over has a rate however short it was: 30,000 records in 0.9 s is a measure, not noise.
    expect(
      progressFigures(report('t', { a: { read: 30_000 } }), 900, { finished: true }).recordsPerSecond,
    ).toBeCloseTo(33_333.3, 0);
  });

  it('on a terminal the live line shows records of the total, the rate and the ETA', () => {
    let now = 0;
    const { stream, text } = capture(true);
    const progress = createProgress(stream, () => now);
    progress.update(report('shop', { orders: { read: 0, expected: 10_000 } }));
    now = 2_000;
    progress.update(report('shop', { orders: { read: 4_000, expected: 10_000 } }));
    progress.stop();
    expect(text()).toMatch(
      /shop \| 4,000 records read of 10,000 \| 2,000 records\/s \| 2 chunks staged \| 2 loaded \| 2s \| ETA 3s/,
    );
  });

  it('off a terminal, one line per finished tap with its rate', () => {
    const { stream, text } = capture(false);
    createProgress(stream).done(report('shop', { orders: { read: 10_000 } }));
    expect(text()).toBe('shop: succeeded, 10,000 records read in 4.0s (2,500 records/s), 2 chunks loaded\n');
  });

  it('an ETA reads as seconds, minutes or hours, rounded up once', () => {
    expect([0.2, 59, 59.5, 119.5, 125, 3_599.5, 7_260].map(formatSeconds)).toEqual([
      '1s',
      '59s',
      '1m00s',
      '2m00s',
      '2m05s',
      '1h00m',
      '2h01m',
    ]);
  });

  it('the run ends with one line across every tap', () => {
    const failed = report('b', { x: { read: 1_000, inserted: 1_000 } });
    failed.status = 'failed';
    expect(formatRunSummary([report('a', { x: { read: 3_000, inserted: 2_500 } }), failed])).toBe(
      '2 taps: 1 succeeded, 1 failed · 4,000 records read · 3,500 inserted, 0 updated, 0 deleted · 4 chunks loaded · 8.0s (500 records/s)',
    );
  });
});
