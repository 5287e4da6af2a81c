import { Command } from 'commander';
import { openDestination } from '../../destinations/open-destination.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import type { TapConfig } from '../../pipeline/pipeline-config.ts';
import { formatRunReport } from '../../pipeline/run-report.ts';
import { runTap } from '../../pipeline/run-tap.ts';
import { parseSchedule } from '../../pipeline/schedule.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';

export function scheduleCommand(): Command {
  return new Command('schedule')
    .description(
      'Keep running each tap on its schedule, locally, until stopped (Ctrl-C stops the run under way at its next STATE, keeping what it read).',
    )
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--once', 'run each scheduled tap once, then exit')
    .action(async (file: string, options: { once?: boolean }) => {
      const pipeline = await loadPipeline(file);
      for (const warning of pipeline.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
      const taps = [...pipeline.taps.values()].filter((tap) => tap.schedule !== undefined);
      if (taps.length === 0)
        throw new Error(`${file}: no tap has a schedule; add one, e.g. schedule: rate(1 hour)`);
      const schedules = new Map(
        taps.map((tap) => [tap.name, parseSchedule(tap.schedule ?? '', tap.timezone)]),
      );
      // A Singer tap's or target's stderr, as the user would see it running the program by hand.
      const log = (line: string) => {
        if (!line.startsWith('METRIC: ')) process.stderr.write(`${line}\n`);
      };
      await new FolderStage(pipeline.stagePath).checkWritable(); // before any source is read
      const destination = await openDestination(pipeline.destination, { log });
      const run = async (tap: TapConfig) => {
        const report = await runTap(tap, {
          stage: new FolderStage(pipeline.stagePath),
          stateStore: new FileStateStore(pipeline.statePath),
          destination,
          log,
          interrupted: () => stopping,
        });
        process.stdout.write(`${formatRunReport([report])}\n`);
        await new FolderStage(pipeline.stagePath).prune(
          `stage/${tap.name}/`,
          pipeline.stageKeepMs ?? 3 * 86_400_000,
        );
      };
      let stopping = false;
      process.once('SIGINT', () => {
        stopping = true;
        process.stderr.write(
          'trib schedule: stopping; the run under way stops at its next STATE and keeps what it read (Ctrl-C again to stop at once)\n',
        );
      });
      try {
        // Every tap runs at start, then at its schedule, one at a time (DuckDB allows one writer).
        const due = new Map(taps.map((tap) => [tap.name, Date.now()]));
        process.stderr.write(
          `trib schedule: each tap runs once now, to catch up, then on its schedule (${taps.map((tap) => `${tap.name}: ${tap.schedule}${tap.timezone === undefined ? '' : ` ${tap.timezone}`}`).join('; ')})\n`,
        );
        while (!stopping) {
          const [name, at] = [...due].sort((a, b) => a[1] - b[1])[0] as [string, number];
          if (at > Date.now()) {
            if (options.once === true) break;
            process.stderr.write(`trib schedule: next is ${name} at ${new Date(at).toISOString()}\n`);
            await sleepUnless(at - Date.now(), () => stopping);
            continue;
          }
          await run(pipeline.taps.get(name) as TapConfig);
          due.set(name, schedules.get(name)?.next(Date.now()) ?? Number.POSITIVE_INFINITY);
        }
      } finally {
        await destination.close();
      }
    });
}

async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop())
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, until - Date.now())));
}
