import { Command } from 'commander';
import { parseS3Uri } from '../../aws/s3-uri.ts';
import { parseChunkKey } from '../../chunks/chunk-key.ts';
import type { ChunkPosition } from '../../chunks/chunk-position.ts';
import { readChunk } from '../../chunks/read-chunk.ts';
import type { Destination } from '../../destinations/destination.ts';
import { openDestination, parseDestinationSpec } from '../../destinations/open-destination.ts';
import { loadChunks } from '../../persister/load-chunks.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { redriveTap } from '../../pipeline/redrive.ts';
import { checkReplay } from '../../pipeline/run-protocol.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import type { Stage } from '../../stage/stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import type { StateStore, TapState } from '../../state/state-store.ts';
import { loadAwsClients } from '../aws-clients.ts';

export class OrphanChunkError extends Error {
  override readonly name = 'OrphanChunkError';
}

/** Refuses, with the reason, a chunk the run protocol says must not load (checkReplay). */
async function refuseOrphan(ref: ChunkPosition, stage: Stage, state: TapState): Promise<void> {
  const check = await checkReplay(stage, state, ref);
  if (!check.ok) throw new OrphanChunkError(check.reason);
}

interface ReplayOptions {
  pipeline: string;
  to?: string;
  direct?: boolean;
  queueUrl?: string;
  table?: string;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'Load a staged chunk again, then the chunks after it that waited for it. A chunk already loaded loads nothing; a bookmark never moves back.',
    )
    .argument(
      '<chunk>',
      'a staged chunk: a path .../stage/<tap>/<run>/<seq>.jsonl.gz, or s3://bucket/stage/...',
    )
    .option('--pipeline <file>', 'pipeline whose destination (and local state) to use', 'pipeline.yaml')
    .option('--to <destination>', 'load into this destination instead (no bookmark is moved)')
    .option(
      '--queue-url <url>',
      's3:// chunks: the chunk queue to send it to again (the stack output ChunkQueueUrl)',
    )
    .option('--direct', 's3:// chunks: load it from here instead of through the queue (--to implies it)')
    .option(
      '--table <name>',
      "s3:// chunks: the state table (the stack output StateTableName) that knows the tap's chain and whose committed bookmark may move forward",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  trib replay .tributary/stage/sample/20261123T101500123Z-3f9a1c/000002.jsonl.gz\n  trib replay s3://my-stage/stage/github/20261123T101500123Z-3f9a1c/000002.jsonl.gz --queue-url https://sqs…/chunks.fifo --table STATE_TABLE',
    )
    .action(async (location: string, options: ReplayOptions) => {
      const ref = parseChunkKey(location);
      if (location.startsWith('s3://')) {
        await replayFromS3(location, ref, options);
        return;
      }
      const root = location.replaceAll('\\', '/').slice(0, -ref.key.length) || '.';
      const stage = new FolderStage(root);
      let stateStore: StateStore | undefined;
      if (options.to === undefined)
        stateStore = new FileStateStore((await loadPipeline(options.pipeline)).statePath);
      const metadata = await stage.metadata(ref.key);
      if (metadata === undefined)
        throw new Error(`${location}: no such chunk in the stage (or its metadata file is missing)`);
      if (stateStore !== undefined) await refuseOrphan(ref, stage, await stateStore.read(ref.tap));
      await replayInto(ref, stage, await destinationFor(options), stateStore, metadata.previous);
    });
}

async function replayFromS3(
  location: string,
  ref: ReturnType<typeof parseChunkKey>,
  options: ReplayOptions,
): Promise<void> {
  const { awsQueue, awsStage, awsStateStore } = await loadAwsClients();
  const { bucket } = parseS3Uri(location);
  const stage = awsStage(bucket);
  const metadata = await stage.metadata(ref.key);
  if (metadata === undefined)
    throw new Error(`${location}: no such chunk in the stage bucket (or its metadata is missing)`);
  if (options.to !== undefined) {
    // Into another destination: the tap's committed bookmark stays where it is (as for a local --to).
    if (options.table !== undefined)
      await refuseOrphan(ref, stage, await awsStateStore(options.table, bucket).read(ref.tap));
    await replayInto(ref, stage, await destinationFor(options), undefined, metadata.previous);
    return;
  }
  // Only the state table knows the tap's chain: without it an orphan could load, and its records,
  // read again by a later run, would load twice.
  if (options.table === undefined)
    throw new Error(
      "replaying an s3:// chunk needs --table (the stack output StateTableName): only a chunk on the tap's chain may load. Give --to <destination> to load it into another destination instead.",
    );
  const stateStore = awsStateStore(options.table, bucket);
  await refuseOrphan(ref, stage, await stateStore.read(ref.tap));
  if (options.direct === true) {
    await replayInto(ref, stage, await destinationFor(options), stateStore, metadata.previous);
    return;
  }
  if (options.queueUrl === undefined)
    throw new Error(
      'replaying an s3:// chunk sends it to the chunk queue: give --queue-url (the stack output ChunkQueueUrl), or --direct to load it from here',
    );
  const queue = awsQueue(options.queueUrl, bucket);
  await queue.replay({ ...metadata, key: ref.key });
  process.stdout.write(
    `${location}: sent to the chunk queue again; the persister loads it unless it is already in the ledger.\n`,
  );
  const after = await redriveTap(ref.tap, { stage, stateStore }, (chunk) => queue.replay(chunk), ref);
  if (after.length > 0) process.stdout.write(`${after.length} chunk(s) after it sent again too, in order.\n`);
}

async function destinationFor(options: ReplayOptions): Promise<Destination> {
  if (options.to !== undefined) return openDestination(parseDestinationSpec(options.to));
  return openDestination((await loadPipeline(options.pipeline)).destination);
}

async function replayInto(
  ref: ReturnType<typeof parseChunkKey>,
  stage: Stage,
  destination: Destination,
  stateStore: StateStore | undefined,
  previous: ChunkPosition | null,
): Promise<void> {
  const load = async (key: string, after: ChunkPosition | null) => {
    const chunk = parseChunkKey(key);
    const [outcome] = await loadChunks(
      chunk.tap,
      [
        {
          ...chunk,
          previous: after,
          source: stage.uriOf(key),
          messages: async function* () {
            yield* readChunk(stage, key, await stage.metadata(key));
          },
        },
      ],
      { destination, ...(stateStore === undefined ? {} : { stateStore }) },
    );
    if (outcome?.status === 'orphaned') {
      throw new OrphanChunkError(
        `${key} is at or behind the tap's committed chunk but not in the destination's ledger: it was never on the tap's chain (a writer that lost its lease, or a crash before recording it), and the chunk that replaced it holds its records, so it is not loaded. Nothing to do. To load staged chunks into a destination that lost its ledger, give --to.`,
      );
    }
    if (outcome?.status === 'dropped') {
      process.stdout.write(`${key}: dropped by \`trib rewind\`; not loaded (its records are read again).\n`);
    } else if (outcome?.status === 'skipped') {
      process.stdout.write(`${key}: already loaded (in the ledger); nothing loaded again.\n`);
    } else if (outcome !== undefined) {
      const counts = Object.entries(outcome.counts)
        .map(([stream, c]) => `${stream}: ${c.inserted} inserted, ${c.updated} updated, ${c.deleted} deleted`)
        .join('; ');
      process.stdout.write(
        `${key}: loaded ${outcome.records} records (${counts || 'no rows'}).${outcome.bookmarkMoved ? ' Committed bookmark moved forward.' : ''}\n`,
      );
    }
  };
  try {
    await load(ref.key, previous);
    // The chunks after it waited for it: they load now too, in order (the tap's bookmark moves with them).
    if (stateStore !== undefined)
      await redriveTap(ref.tap, { stage, stateStore }, (chunk) => load(chunk.key, chunk.previous), ref);
  } finally {
    await destination.close();
  }
}
