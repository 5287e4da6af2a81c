import { Command } from 'commander';
import { sanitizeIdentifier } from '../../columns/identifiers.ts';
import type { DuckDbDestination } from '../../destinations/duckdb/duckdb-destination.ts';
import { openDestination } from '../../destinations/open-destination.ts';
import { quoteLiteral } from '../../destinations/sql-text.ts';
import { dryRunTap } from '../../pipeline/dry-run.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { formatRunSummary } from '../../pipeline/progress-figures.ts';
import { formatRunReport, type TapReport } from '../../pipeline/run-report.ts';
import { runTap } from '../../pipeline/run-tap.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import { createProgress } from '../progress.ts';
import { positiveInteger } from './persist.ts';

export function runCommand(): Command {
  return new Command('run')
    .description('Sync each tap of a pipeline once, locally: streamer → stage → persister → warehouse.')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--tap <name>', 'run only this tap')
    .option(
      '--dry-run',
      'run the streamer and the steps only, and show what each step made; nothing is staged or loaded',
    )
    .option(
      '--limit <records>',
      'with --dry-run: records read per stream',
      (value) => positiveInteger(value, '--limit'),
      20,
    )
    .action(async (file: string, options: { tap?: string; dryRun?: boolean; limit: number }) => {
      const pipeline = await loadPipeline(file);
      for (const warning of pipeline.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
      const taps = [...pipeline.taps.values()].filter(
        (tap) => options.tap === undefined || tap.name === options.tap,
      );
      if (taps.length === 0) {
        throw new Error(
          `${file}: no tap named ${JSON.stringify(options.tap)}; taps: ${[...pipeline.taps.keys()].join(', ')}`,
        );
      }
      if (options.dryRun === true) {
        const stateStore = new FileStateStore(pipeline.statePath);
        for (const tap of taps)
          process.stdout.write(
            `${await dryRunTap(tap, { stateStore, limit: options.limit, log: (line) => process.stderr.write(`${line}\n`) })}\n`,
          );
        return;
      }
      await new FolderStage(pipeline.stagePath).checkWritable(); // before any source is read
      const progress = createProgress();
      const destination = await openDestination(pipeline.destination, { log: (line) => progress.log(line) });
      const reports: TapReport[] = [];
      let lookAt: string | undefined;
      const interrupt = onInterrupt(() => progress.stop());
      try {
        for (const tap of taps) {
          if (interrupt.requested()) break;
          reports.push(
            await runTap(tap, {
              stage: new FolderStage(pipeline.stagePath),
              stateStore: new FileStateStore(pipeline.statePath),
              destination,
              onProgress: (report) => progress.update(report),
              // METRIC lines are for Singer tooling; the report shows the same counts.
              log: (line) => {
                if (!line.startsWith('METRIC: ')) progress.log(line);
              },
              interrupted: interrupt.requested,
            }),
          );
          progress.done(reports.at(-1) as TapReport);
          // Loaded chunks older than stage.keep go; the stage does not grow for ever.
          const pruned = await new FolderStage(pipeline.stagePath).prune(
            `stage/${tap.name}/`,
            pipeline.stageKeepMs ?? 3 * 86_400_000,
          );
          if (pruned > 0)
            progress.log(
              `tap ${tap.name}: ${pruned} loaded chunk${pruned === 1 ? '' : 's'} older than stage.keep removed from the stage`,
            );
        }
        // A DuckDB warehouse (checked by its description, so DuckDB loads only when it is the destination)
        if (destination.description.startsWith('duckdb:'))
          lookAt = await firstLoadedTable(destination as DuckDbDestination, reports);
      } finally {
        interrupt.dispose();
        progress.stop();
        await destination.close();
      }
      process.stdout.write(`\n${formatRunReport(reports)}\n\n${formatRunSummary(reports)}\n`);
      if (pipeline.destination.type === 'duckdb') {
        process.stdout.write(`\nWarehouse: ${pipeline.destination.path}\n`);
        if (lookAt !== undefined)
          process.stdout.write(`Look at it: npx trib query ${file} "select count(*) from ${lookAt}"\n`);
      }
      if (interrupt.requested()) {
        process.stdout.write(
          `\nInterrupted. What was read is loaded and committed; run \`trib run ${file}\` to go on from there.\n`,
        );
        process.exitCode = 130;
      } else if (reports.some((report) => report.status === 'failed')) process.exitCode = 1;
    });
}

/** A table of the run's streams that exists in the warehouse, for the "Look at it" line. */
async function firstLoadedTable(
  warehouse: DuckDbDestination,
  reports: readonly TapReport[],
): Promise<string | undefined> {
  // A name is recorded in the transaction that creates the table, so a recorded name is a table.
  for (const report of reports)
    for (const stream of report.streams.keys()) {
      const schema = sanitizeIdentifier(report.tap);
      const named = await warehouse.query(
        `SELECT name FROM main._tributary_names WHERE tap = ${quoteLiteral(report.tap)} AND stream = ${quoteLiteral(stream)} AND kind = 'table'`,
      );
      const table = named[0]?.name;
      if (typeof table === 'string') return `${schema}.${table}`;
    }
  return undefined;
}

/**
 * Ctrl-C (or SIGTERM) once: stop at the next STATE, load what was read, release the lease, report.
 * Twice: stop at once, leaving the terminal as it was found (the lease of a process that is gone is
 * taken over by the next run on this host).
 */
function onInterrupt(restoreTerminal: () => void): { requested: () => boolean; dispose: () => void } {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      process.stderr.write(
        `\n${signal}: stopping at the next STATE and loading what was read (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to stop at once)\n`,
      );
      return;
    }
    restoreTerminal();
    process.stderr.write(
      '\x1b[?25h\x1b[?7h\nStopped at once. The next run takes over the lease and resumes at the last committed STATE.\n',
    );
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    requested: () => count > 0,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
