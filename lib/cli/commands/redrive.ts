import { Command } from 'commander';
import { formatPosition } from '../../chunks/chunk-position.ts';
import { openDestination } from '../../destinations/open-destination.ts';
import { loadChunks, stagedChunk } from '../../persister/load-chunks.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { clearDeadLetters, redriveTap } from '../../pipeline/redrive.ts';
import { waitingChunks } from '../../pipeline/run-protocol.ts';
import type { ChunkMessage } from '../../queue/chunk-queue.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import type { Stage } from '../../stage/stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import type { StateStore } from '../../state/state-store.ts';
import { loadAwsClients } from '../aws-clients.ts';

interface RedriveOptions {
  pipeline: string;
  aws?: boolean;
  bucket?: string;
  table?: string;
  queueUrl?: string;
  dlqUrl?: string;
  dryRun?: boolean;
}

export function redriveCommand(): Command {
  return new Command('redrive')
    .description(
      "Unstick a tap: deliver its chunks staged and not yet loaded again, oldest first (after fixing what made one fail). Chunks already loaded load nothing; with --dlq-url the tap's dead letters are removed.",
    )
    .argument('<tap>', 'the tap whose chunks to deliver again')
    .option(
      '--pipeline <file>',
      'local: the pipeline whose stage, state and destination to use',
      'pipeline.yaml',
    )
    .option('--aws', 'the deployed pipeline: send the chunks to the chunk queue again')
    .option('--bucket <name>', 'with --aws: the stage bucket (stack output StageBucketName)')
    .option('--table <name>', 'with --aws: the state table (stack output StateTableName)')
    .option('--queue-url <url>', 'with --aws: the chunk queue (stack output ChunkQueueUrl)')
    .option('--dlq-url <url>', "with --aws: the dead-letter queue to remove the tap's dead letters from")
    .option('--dry-run', 'list the chunks that would be delivered, deliver nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  trib redrive github-acme\n  trib redrive github-acme --aws --bucket STAGE --table STATE --queue-url CHUNK_QUEUE_URL --dlq-url DLQ_URL',
    )
    .action(async (tap: string, options: RedriveOptions) => {
      if (options.dryRun === true) return dryRun(tap, options);
      if (options.aws === true) return redriveAws(tap, options);
      const pipeline = await loadPipeline(options.pipeline);
      if (!pipeline.taps.has(tap))
        throw new Error(
          `${options.pipeline}: no tap named ${JSON.stringify(tap)}. Taps: ${[...pipeline.taps.keys()].join(', ')}.`,
        );
      const stage = new FolderStage(pipeline.stagePath);
      const stateStore = new FileStateStore(pipeline.statePath);
      const destination = await openDestination(pipeline.destination);
      try {
        const delivered = await redriveTap(tap, { stage, stateStore }, async (chunk) => {
          const [outcome] = await loadChunks(tap, [stagedChunk(stage, chunk)], { destination, stateStore });
          await stage.markLoaded(chunk.key);
          process.stdout.write(
            `${chunk.key}: ${outcome === undefined || outcome.status === 'loaded' ? `loaded ${outcome?.records ?? 0} records` : outcome.status === 'skipped' ? 'already loaded' : `${outcome.status}, not loaded`}\n`,
          );
        });
        await report(tap, delivered, 'loaded', stateStore);
      } finally {
        await destination.close();
      }
    });
}

async function redriveAws(tap: string, options: RedriveOptions): Promise<void> {
  if (options.bucket === undefined || options.table === undefined || options.queueUrl === undefined)
    throw new Error(
      'redrive --aws needs --bucket, --table and --queue-url (the stack outputs StageBucketName, StateTableName and ChunkQueueUrl)',
    );
  const { awsQueue, awsStage, awsStateStore } = await loadAwsClients();
  const stage = awsStage(options.bucket);
  const stateStore = awsStateStore(options.table, options.bucket);
  const queue = awsQueue(options.queueUrl, options.bucket);
  const delivered = await redriveTap(tap, { stage, stateStore }, (chunk) => queue.replay(chunk));
  await report(tap, delivered, 'sent to the chunk queue', stateStore);
  if (options.dlqUrl !== undefined) {
    const removed = await clearDeadLetters(tap, awsQueue(options.dlqUrl, options.bucket));
    process.stdout.write(`removed ${removed} dead letter(s) of tap ${tap} from the dead-letter queue\n`);
  }
}

async function dryRun(tap: string, options: RedriveOptions): Promise<void> {
  let stage: Stage;
  let stateStore: StateStore;
  if (options.aws === true) {
    if (options.bucket === undefined || options.table === undefined)
      throw new Error(
        'redrive --aws needs --bucket and --table (the stack outputs StageBucketName and StateTableName)',
      );
    const { awsStage, awsStateStore } = await loadAwsClients();
    stage = awsStage(options.bucket);
    stateStore = awsStateStore(options.table, options.bucket);
  } else {
    const pipeline = await loadPipeline(options.pipeline);
    stage = new FolderStage(pipeline.stagePath);
    stateStore = new FileStateStore(pipeline.statePath);
  }
  const waiting = await waitingChunks(stage, await stateStore.read(tap));
  for (const chunk of waiting)
    process.stdout.write(`would deliver ${chunk.key} (${chunk.records} records)\n`);
  process.stdout.write(`tap ${tap}: ${waiting.length} chunk(s) waiting. Dry run: nothing delivered.\n`);
}

async function report(tap: string, delivered: ChunkMessage[], how: string, stateStore: StateStore) {
  const state = await stateStore.read(tap);
  const committed = state.committed === undefined ? '(none)' : formatPosition(state.committed);
  process.stdout.write(
    delivered.length === 0
      ? `tap ${tap}: no chunks waiting; committed bookmark at ${committed}\n`
      : `tap ${tap}: ${delivered.length} chunk(s) ${how}, oldest first (${formatPosition(delivered[0] as ChunkMessage)} to ${formatPosition(delivered.at(-1) as ChunkMessage)}); committed bookmark at ${committed}\n`,
  );
}
