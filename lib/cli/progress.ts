/**
 * Progress for long runs: a live line per tap on a terminal (cli-progress), a line per finished tap
 * otherwise, so logs stay readable when output goes to a file or CI.
 */
import cliProgress from 'cli-progress';
import type { TapReport } from '../pipeline/run-report.ts';

export interface Progress {
  update(report: TapReport): void;
  done(report: TapReport): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    return {
      update: () => {},
      done: (report) =>
        stream.write(
          `${report.tap}: ${report.status}, ${recordsOf(report)} records read, ${report.chunksLoaded} chunks loaded\n`,
        ),
      log: (line) => stream.write(`${line}\n`),
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: ' {tap} | {records} records read | {staged} chunks staged | {loaded} loaded | {seconds}s',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const lines = new Map<string, cliProgress.SingleBar>();
  const started = Date.now();
  const payload = (report: TapReport) => ({
    tap: report.tap,
    records: recordsOf(report).toLocaleString('en-US'),
    staged: report.chunksStaged,
    loaded: report.chunksLoaded + report.chunksCaughtUp,
    seconds: ((Date.now() - started) / 1000).toFixed(0),
  });
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
    stop: () => bars.stop(),
  };
}

function recordsOf(report: TapReport): number {
  return [...report.streams.values()].reduce((sum, stream) => sum + stream.recordsRead, 0);
}
