import { Command } from 'commander';
import { parseChunkKey } from '../../chunks/chunk-key.ts';
import { readChunk } from '../../chunks/read-chunk.ts';
import type { Destination } from '../../destinations/destination.ts';
import { openDestination, parseDestinationSpec } from '../../destinations/open-destination.ts';
import { loadChunks } from '../../persister/load-chunks.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import type { StateStore } from '../../state/state-store.ts';

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'Load a staged chunk again. A chunk already loaded loads nothing; a bookmark never moves back.',
    )
    .argument('<chunk>', 'path of a staged chunk: .../stage/<tap>/<run>/<seq>.jsonl.gz')
    .option('--pipeline <file>', 'pipeline whose destination and state to use', 'pipeline.yaml')
    .option('--to <destination>', 'load into this destination instead (no bookmark is moved)')
    .action(async (path: string, options: { pipeline: string; to?: string }) => {
      const ref = parseChunkKey(path);
      const root = path.replaceAll('\\', '/').slice(0, -ref.key.length) || '.';
      const stage = new FolderStage(root);
      let destination: Destination;
      let stateStore: StateStore | undefined;
      if (options.to !== undefined) {
        destination = await openDestination(parseDestinationSpec(options.to));
      } else {
        const pipeline = await loadPipeline(options.pipeline);
        destination = await openDestination(pipeline.destination);
        stateStore = new FileStateStore(pipeline.statePath);
      }
      try {
        const metadata = await stage.metadata(ref.key);
        const [outcome] = await loadChunks(
          ref.tap,
          [
            {
              ...ref,
              ...(metadata?.previous === undefined ? {} : { previous: metadata.previous }),
              source: stage.uriOf(ref.key),
              messages: () => readChunk(stage, ref.key),
            },
          ],
          { destination, ...(stateStore === undefined ? {} : { stateStore }) },
        );
        if (outcome?.status === 'skipped') {
          process.stdout.write(`${ref.key}: already loaded (in the ledger); nothing loaded again.\n`);
        } else if (outcome !== undefined) {
          const counts = Object.entries(outcome.counts)
            .map(
              ([stream, c]) =>
                `${stream}: ${c.inserted} inserted, ${c.updated} updated, ${c.deleted} deleted`,
            )
            .join('; ');
          process.stdout.write(
            `${ref.key}: loaded ${outcome.records} records (${counts || 'no rows'}).${outcome.bookmarkMoved ? ' Committed bookmark moved forward.' : ''}\n`,
          );
        }
      } finally {
        await destination.close();
      }
    });
}
