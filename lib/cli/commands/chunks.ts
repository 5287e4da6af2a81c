import { hostname, userInfo } from 'node:os';
import { Command } from 'commander';
import { parseChunkKey, runPrefix } from '../../chunks/chunk-key.ts';
import type { ChunkMetadata } from '../../chunks/chunk-metadata.ts';
import { type ChunkPosition, comparePositions, formatPosition } from '../../chunks/chunk-position.ts';
import { openDestination, parseDestinationSpec } from '../../destinations/open-destination.ts';
import { plural } from '../../pipeline/describe-bookmark.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { committedChain, inspectWaiting } from '../../pipeline/run-protocol.ts';
import { skipChunk } from '../../pipeline/skip-chunk.ts';
import { textTable } from '../../pipeline/text-table.ts';
import { isDropped } from '../../state/state-store.ts';
import { type TapPortOptions, tapPorts } from '../tap-ports.ts';

interface ChunksOptions {
  pipeline: string;
  aws?: boolean;
  bucket?: string;
  table?: string;
}

export function chunksCommand(): Command {
  // Options after `skip` are skip's own (its --aws is not the listing's).
  const chunks = new Command('chunks').enablePositionalOptions();
  chunks
    .command('skip')
    .description(
      "Skip the tap's next waiting chunk, accepting that its records are never loaded (for a chunk that cannot load and cannot be read again: prefer trib rewind, which re-reads them). The chunks after it then load.",
    )
    .argument('<chunk>', 'the chunk: a path .../stage/<tap>/<run>/<seq>.jsonl.gz (as trib chunks names it)')
    .requiredOption('--accept-data-loss', "say that the chunk's records are lost for good")
    .option('--reason <text>', 'why, kept with the skip', 'not given')
    .option('--pipeline <file>', 'the pipeline whose stage, state and destination to use', 'pipeline.yaml')
    .option('--aws', 'the deployed pipeline (S3 stage, DynamoDB state); give --to for its destination')
    .option('--bucket <name>', 'with --aws: the stage bucket (stack output StageBucketName)')
    .option('--table <name>', 'with --aws: the state table (stack output StateTableName)')
    .option(
      '--to <destination>',
      "the destination whose ledger gets the skip, e.g. postgres://… (default: the pipeline's)",
    )
    .option('--dry-run', 'say what would be skipped, change nothing')
    .action(
      async (
        location: string,
        options: TapPortOptions & { reason: string; dryRun?: boolean; to?: string },
      ) => {
        const ref = parseChunkKey(location);
        const { stage, stateStore } = await tapPorts(options);
        const destination = await openDestination(
          options.to !== undefined
            ? parseDestinationSpec(options.to)
            : (await loadPipeline(options.pipeline)).destination,
        );
        try {
          const skipped = await skipChunk(
            ref,
            { stage, stateStore, destination },
            {
              by: `${userInfo().username}@${hostname()}`,
              reason: options.reason,
              ...(options.dryRun === true ? { dryRun: true } : {}),
            },
          );
          process.stdout.write(
            options.dryRun === true
              ? `Would skip chunk ${formatPosition(ref)} of tap ${ref.tap} (${plural(skipped.records, 'record')} never loaded). Dry run: nothing changed.\n`
              : `Skipped chunk ${formatPosition(ref)} of tap ${ref.tap}: ${plural(skipped.records, 'record')} not loaded (reason: ${options.reason}). The chunks after it load with the next run or trib redrive ${ref.tap}.\n`,
          );
        } finally {
          await destination.close();
        }
      },
    );
  return chunks
    .description(
      "List a tap's staged chunks and what became of each: committed (loaded), waiting (on the tap's chain, to load in order), dropped (by trib rewind) or orphaned (left by a writer that lost its lease; never loaded).",
    )
    .argument('<tap>', 'the tap')
    .option('--pipeline <file>', 'local: the pipeline whose stage and state to use', 'pipeline.yaml')
    .option('--aws', 'the deployed pipeline (S3 stage, DynamoDB state)')
    .option('--bucket <name>', 'with --aws: the stage bucket (stack output StageBucketName)')
    .option('--table <name>', 'with --aws: the state table (stack output StateTableName)')
    .addHelpText(
      'after',
      '\nExamples:\n  trib chunks github-acme\n  trib chunks github-acme --aws --bucket STAGE --table STATE',
    )
    .action(async (tap: string, options: ChunksOptions) => {
      const { stage, stateStore } = await tapPorts(options);
      const state = await stateStore.read(tap);
      const { waiting, broken: chainProblem } = await inspectWaiting(stage, state);
      const chain = new Set(waiting.map(formatPosition));
      const keys = (await stage.list(runPrefix(tap))).filter((key) => parseChunkKey(key).tap === tap);
      const rows = [['chunk', 'status', 'records', 'bytes', 'streams']];
      let firstWaiting = true;
      const skipped = new Map((state.skipped ?? []).map((skip) => [formatPosition(skip), skip]));
      const listed = new Map<string, ChunkMetadata | undefined>();
      for (const key of keys) listed.set(formatPosition(parseChunkKey(key)), await stage.metadata(key));
      const committed = await committedChunks(listed, state.committed);
      for (const key of keys) {
        const ref = parseChunkKey(key);
        const metadata = listed.get(formatPosition(ref));
        let status: string;
        const skip = skipped.get(formatPosition(ref));
        if (skip !== undefined) status = `SKIPPED by ${skip.by}: ${skip.reason}`;
        else if (state.committed !== undefined && comparePositions(ref, state.committed) <= 0)
          status = committed.holds(ref) ? 'committed' : 'orphaned';
        else if (isDropped(state, ref)) status = 'dropped';
        else if (chain.has(formatPosition(ref))) {
          status = firstWaiting ? 'waiting (next)' : 'waiting';
          firstWaiting = false;
        } else status = 'orphaned';
        rows.push([
          formatPosition(ref),
          status,
          (metadata?.records ?? 0).toLocaleString('en-US'),
          metadata?.bytes === undefined ? '-' : metadata.bytes.toLocaleString('en-US'),
          (metadata?.streams ?? []).join(','),
        ]);
      }
      process.stdout.write(`tap ${tap}: ${plural(keys.length, 'chunk')} in ${stage.description}\n`);
      if (keys.length > 0)
        process.stdout.write(`${textTable(rows, (column) => column === 2 || column === 3).join('\n')}\n`);
      if (chainProblem !== undefined) process.stdout.write(`\n${chainProblem}\n`);
      else if (!firstWaiting && state.lastRun?.error !== undefined)
        process.stdout.write(`\nThe last run said: ${state.lastRun.error.split('\n')[0]}\n`);
    });
}

/**
 * Whether a chunk at or behind the committed one is on the tap's chain, by the run protocol's walk
 * over the listed chunks. Behind a chunk the stage no longer holds (expired) the walk cannot see, so
 * those count as committed.
 */
async function committedChunks(
  listed: ReadonlyMap<string, ChunkMetadata | undefined>,
  committed: ChunkPosition | undefined,
): Promise<{ holds(position: ChunkPosition): boolean }> {
  if (committed === undefined) return { holds: () => false };
  const walk = await committedChain(
    async (position) => listed.get(formatPosition(position)),
    committed,
    null,
  );
  const chain = new Set(walk.chain.map(formatPosition));
  const { end } = walk;
  return {
    holds: (at) =>
      chain.has(formatPosition(at)) || (walk.unseen && end !== null && comparePositions(at, end) <= 0),
  };
}
