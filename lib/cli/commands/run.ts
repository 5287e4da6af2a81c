import { Command } from 'commander';
import { DuckDbDestination } from '../../destinations/duckdb/duckdb-destination.ts';
import { openDestination } from '../../destinations/open-destination.ts';
import { quoteLiteral } from '../../destinations/sql-text.ts';
import { sanitizeIdentifier } from '../../persister/identifiers.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { formatRunReport, type TapReport } from '../../pipeline/run-report.ts';
import { runTap } from '../../pipeline/run-tap.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import { createProgress } from '../progress.ts';

export function runCommand(): Command {
  return new Command('run')
    .description('Sync each tap of a pipeline once, locally: streamer → stage → persister → warehouse.')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--tap <name>', 'run only this tap')
    .action(async (file: string, options: { tap?: string }) => {
      const pipeline = await loadPipeline(file);
      const taps = [...pipeline.taps.values()].filter(
        (tap) => options.tap === undefined || tap.name === options.tap,
      );
      if (taps.length === 0) {
        throw new Error(
          `${file}: no tap named ${JSON.stringify(options.tap)}; taps: ${[...pipeline.taps.keys()].join(', ')}`,
        );
      }
      const destination = await openDestination(pipeline.destination);
      const progress = createProgress();
      const reports: TapReport[] = [];
      let lookAt: string | undefined;
      try {
        for (const tap of taps) {
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
            }),
          );
          progress.done(reports.at(-1) as TapReport);
        }
        if (destination instanceof DuckDbDestination) lookAt = await firstLoadedTable(destination, reports);
      } finally {
        progress.stop();
        await destination.close();
      }
      process.stdout.write(`\n${formatRunReport(reports)}\n`);
      if (pipeline.destination.type === 'duckdb') {
        process.stdout.write(`\nWarehouse: ${pipeline.destination.path}\n`);
        if (lookAt !== undefined)
          process.stdout.write(`Look at it: npx trib query ${file} "select count(*) from ${lookAt}"\n`);
      }
      if (reports.some((report) => report.status === 'failed')) process.exitCode = 1;
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
