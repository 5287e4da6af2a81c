import { Command } from 'commander';
import { parseChunkKey, runPrefix } from '../../chunks/chunk-key.ts';
import { comparePositions, formatPosition } from '../../chunks/chunk-position.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { summarise } from '../../pipeline/run-report.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';

export function statusCommand(): Command {
  return new Command('status')
    .description('Show each tap: last run, staged vs committed bookmark, chunks waiting to load.')
    .argument('[pipeline]', 'pipeline YAML file', 'pipeline.yaml')
    .action(async (file: string) => {
      const pipeline = await loadPipeline(file);
      const stateStore = new FileStateStore(pipeline.statePath);
      const stage = new FolderStage(pipeline.stagePath);
      const names = [...new Set([...pipeline.taps.keys(), ...(await stateStore.taps())])];
      for (const tap of names) {
        const state = await stateStore.read(tap);
        const waiting = (await stage.list(runPrefix(tap)))
          .map(parseChunkKey)
          .filter(
            (ref) => state.committed === undefined || comparePositions(ref, state.committed) > 0,
          ).length;
        const last = state.lastRun;
        process.stdout.write(`${tap}${pipeline.taps.has(tap) ? '' : ' (not in the pipeline file)'}\n`);
        process.stdout.write(
          `  last run:  ${last === undefined ? 'never' : `${last.status} at ${last.finishedAt}, ${last.records} records, ${last.chunks} chunks`}\n`,
        );
        if (last?.error !== undefined) process.stdout.write(`  error:     ${last.error.split('\n')[0]}\n`);
        process.stdout.write(
          `  staged:    ${state.staged === undefined ? '(none)' : `${formatPosition(state.staged)} ${summarise(state.staged.bookmark)}`}\n`,
        );
        process.stdout.write(
          `  committed: ${state.committed === undefined ? '(none)' : `${formatPosition(state.committed)} ${summarise(state.committed.bookmark)}`}\n`,
        );
        const lag =
          state.committed === undefined
            ? ''
            : `, committed ${Math.round((Date.now() - Date.parse(state.committed.at)) / 60_000)} min ago`;
        process.stdout.write(`  lag:       ${waiting} chunk(s) staged but not loaded${lag}\n`);
        if (state.lease !== undefined && state.lease.expiresAt > Date.now())
          process.stdout.write(`  running:   lease held by ${state.lease.owner}\n`);
      }
    });
}
