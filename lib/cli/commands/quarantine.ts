import { Command } from 'commander';
import { openDestination } from '../../destinations/open-destination.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { textTable } from '../../pipeline/text-table.ts';
import { writeOut } from '../write-out.ts';

export function quarantineCommand(): Command {
  const command = new Command('quarantine')
    .description('Show the records a validate step set aside for a tap (what they were, and why).')
    .argument('<tap>', 'the tap')
    .option('--pipeline <file>', 'pipeline YAML file', 'pipeline.yaml')
    .option('--limit <n>', 'pending records to show', '10')
    .enablePositionalOptions()
    .action(async (tapName: string, options: { pipeline: string; limit: string }) => {
      const pipeline = await loadPipeline(options.pipeline);
      if (!pipeline.taps.has(tapName))
        throw new Error(
          `${options.pipeline}: no tap named ${JSON.stringify(tapName)}; taps: ${[...pipeline.taps.keys()].join(', ')}`,
        );
      const destination = await openDestination(pipeline.destination);
      try {
        const { readQuarantine } = await quarantineModule();
        const rows = await readQuarantine(destination, tapName);
        const pending = rows.filter((row) => row.replayed_at === null);
        if (rows.length === 0) {
          await writeOut(`tap ${tapName}: nothing quarantined\n`);
          return;
        }
        const tables = new Map<string, { pending: number; replayed: number }>();
        for (const row of rows) {
          const counts = tables.get(row.stream) ?? { pending: 0, replayed: 0 };
          if (row.replayed_at === null) counts.pending += 1;
          else counts.replayed += 1;
          tables.set(row.stream, counts);
        }
        const lines = textTable(
          [
            ['stream', 'pending', 'replayed'],
            ...[...tables].map(([stream, counts]) => [
              stream,
              String(counts.pending),
              String(counts.replayed),
            ]),
          ],
          (column) => column > 0,
        );
        const shown = pending
          .slice(0, Number(options.limit))
          .map(
            (row) =>
              `  ${row.stream} (step ${row.step}, run ${row.run}): ${row.reason}\n    ${JSON.stringify(row.record).slice(0, 300)}`,
          );
        await writeOut(
          `tap ${tapName}\n${lines.map((line) => `  ${line}`).join('\n')}\n${shown.length === 0 ? '' : `\n${shown.join('\n')}\n`}${pending.length === 0 ? '' : `\nFix the cause (the source, the schema or a step), then: trib quarantine replay ${tapName} --pipeline ${options.pipeline}\n`}`,
        );
      } finally {
        await destination.close();
      }
    });
  command.addCommand(
    new Command('replay')
      .description(
        'Run the pending quarantined records through the steps again and load what now passes, once.',
      )
      .argument('<tap>', 'the tap')
      .option('--pipeline <file>', 'pipeline YAML file', 'pipeline.yaml')
      .option('--stream <stream>', 'only this stream')
      .action(async (tapName: string, options: { pipeline: string; stream?: string }) => {
        const pipeline = await loadPipeline(options.pipeline);
        const tap = pipeline.taps.get(tapName);
        if (tap === undefined)
          throw new Error(
            `${options.pipeline}: no tap named ${JSON.stringify(tapName)}; taps: ${[...pipeline.taps.keys()].join(', ')}`,
          );
        const destination = await openDestination(pipeline.destination);
        try {
          const { replayQuarantine } = await quarantineModule();
          const outcome = await replayQuarantine({
            tap,
            destination,
            ...(options.stream === undefined ? {} : { stream: options.stream }),
            log: (line) => process.stderr.write(`${line}\n`),
          });
          const failing = outcome.stillFailing.map(
            (item) =>
              `  still failing: ${item.row.stream} ${JSON.stringify(item.row.record).slice(0, 120)}: ${item.reason}`,
          );
          await writeOut(
            `tap ${tapName}: ${outcome.replayed} replayed (${outcome.loaded} records loaded), ${outcome.stillFailing.length} still failing\n${failing.join('\n')}${failing.length === 0 ? '' : '\n'}`,
          );
          if (outcome.stillFailing.length > 0) process.exitCode = 1;
        } finally {
          await destination.close();
        }
      }),
  );
  return command;
}

/** Loaded when used: it needs both warehouse drivers (DuckDB alone takes 250 ms to load). */
function quarantineModule(): Promise<typeof import('../../steps/quarantine.ts')> {
  return import('../../steps/quarantine.ts');
}
