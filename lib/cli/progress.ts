/**
 * Progress for long runs: a live line per tap on a terminal (cli-progress) with records/s and, where
 * the source gave totals, an ETA; a line per finished tap otherwise, so logs stay readable when output
 * goes to a file or CI.
 */
import cliProgress from 'cli-progress';
import { formatRate, formatSeconds, progressFigures } from '../pipeline/progress-figures.ts';
import type { TapReport } from '../pipeline/run-report.ts';

export interface Progress {
  update(report: TapReport): void;
  done(report: TapReport): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, clock = Date.now): Progress {
  const startedOf = new Map<string, number>();
  const elapsed = (report: TapReport) => {
    const started = startedOf.get(report.tap) ?? clock();
    startedOf.set(report.tap, started);
    return clock() - started;
  };
  if (!stream.isTTY) {
    return {
      update: (report) => void elapsed(report),
      done: (report) => stream.write(`${report.tap}: ${report.status}, ${doneLine(report)}\n`),
      log: (line) => stream.write(`${line}\n`),
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format:
        ' {tap} | {records} records read{expected} | {rate} | {staged} chunks staged | {loaded} loaded | {seconds}s{remaining}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const lines = new Map<string, cliProgress.SingleBar>();
  const payload = (report: TapReport) => {
    const ms = elapsed(report);
    const figures = progressFigures(report, ms);
    return {
      tap: report.tap,
      records: figures.records.toLocaleString('en-US'),
      expected: figures.expected === undefined ? '' : ` of ${figures.expected.toLocaleString('en-US')}`,
      rate: formatRate(figures.recordsPerSecond) || '- records/s',
      staged: report.chunksStaged,
      loaded: report.chunksLoaded + report.chunksCaughtUp,
      seconds: (ms / 1000).toFixed(0),
      remaining: figures.etaSeconds === undefined ? '' : ` | ETA ${formatSeconds(figures.etaSeconds)}`,
    };
  };
  return {
    update(report) {
      const line = lines.get(report.tap) ?? bars.create(1, 0, payload(report));
      lines.set(report.tap, line);
      line.update(0, payload(report));
    },
    done(report) {
      this.update(report);
    },
    log: (line) => bars.log(`${line}\n`),
    stop: () => {
      // cli-progress draws on a timer; without this the last figures of a quick run never show.
      bars.update();
      bars.stop();
    },
  };
}

function doneLine(report: TapReport): string {
  const figures = progressFigures(report, report.durationMs, { finished: true });
  const rate = figures.recordsPerSecond === undefined ? '' : ` (${formatRate(figures.recordsPerSecond)})`;
  return `${figures.records.toLocaleString('en-US')} records read in ${(report.durationMs / 1000).toFixed(1)}s${rate}, ${report.chunksLoaded} chunk${report.chunksLoaded === 1 ? '' : 's'} loaded`;
}
