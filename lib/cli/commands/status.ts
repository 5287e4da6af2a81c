import { Command } from 'commander';
import { formatPosition } from '../../chunks/chunk-position.ts';
import { bookmarkLines, plural } from '../../pipeline/describe-bookmark.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { inspectWaiting } from '../../pipeline/run-protocol.ts';
import { localHolderIfDead } from '../../pipeline/run-tap.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import type { Stage } from '../../stage/stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import type { StateStore } from '../../state/state-store.ts';
import { loadAwsClients } from '../aws-clients.ts';

interface StatusOptions {
  aws?: boolean;
  bucket?: string;
  table?: string;
  dlqUrl?: string;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('Show each tap: last run, staged vs committed bookmark, chunks waiting to load.')
    .argument('[pipeline]', 'pipeline YAML file', 'pipeline.yaml')
    .option('--aws', 'read the deployed pipeline: S3 stage, DynamoDB state, SQS dead-letter queue')
    .option('--bucket <name>', 'with --aws: the stage bucket (stack output StageBucketName)')
    .option('--table <name>', 'with --aws: the state table (stack output StateTableName)')
    .option('--dlq-url <url>', 'with --aws: the dead-letter queue (stack output DeadLetterQueueUrl)')
    .action(async (file: string, options: StatusOptions) => {
      let stage: Stage;
      let stateStore: StateStore;
      let names: string[];
      if (options.aws === true) {
        if (options.bucket === undefined || options.table === undefined) {
          throw new Error(
            'status --aws needs --bucket and --table (the stack outputs StageBucketName and StateTableName)',
          );
        }
        const { awsQueue, awsStage, awsStateStore } = await loadAwsClients();
        stage = awsStage(options.bucket);
        stateStore = awsStateStore(options.table, options.bucket);
        names = await stateStore.taps();
        if (options.dlqUrl !== undefined) {
          const depth = await awsQueue(options.dlqUrl, options.bucket).depth();
          process.stdout.write(
            `dead-letter queue: ${depth} chunk(s)${depth > 0 ? ' — a chunk failed repeatedly and blocks its tap; fix the cause, then `trib redrive <tap> --aws …`' : ''}\n`,
          );
        }
      } else {
        const pipeline = await loadPipeline(file);
        stage = new FolderStage(pipeline.stagePath);
        stateStore = new FileStateStore(pipeline.statePath);
        names = [...new Set([...pipeline.taps.keys(), ...(await stateStore.taps())])];
      }
      for (const tap of names) {
        const state = await stateStore.read(tap);
        // The chain from `staged` back to `committed`: chunks a writer left without recording them are
        // not waiting (they never load), so they do not count as lag.
        const chain = await inspectWaiting(stage, state);
        const waiting = chain.broken === undefined ? chain.waiting.length : `? (${chain.broken})`;
        const last = state.lastRun;
        process.stdout.write(`${tap}\n`);
        process.stdout.write(
          `  last run:  ${last === undefined ? 'never' : `${last.status} at ${last.finishedAt}${last.status === 'skipped' ? '' : `, ${plural(last.records, 'record')}, ${plural(last.chunks, 'chunk')}`}`}\n`,
        );
        if (last?.error !== undefined)
          process.stdout.write(
            `  ${last.status === 'skipped' ? 'reason' : 'error'}:     ${last.error.split('\n')[0]}\n`,
          );
        process.stdout.write(
          `  staged:    ${state.staged === undefined ? '(none)' : formatPosition(state.staged)}\n`,
        );
        process.stdout.write(
          `  committed: ${state.committed === undefined ? '(none)' : `${formatPosition(state.committed)} at ${state.committed.at}`}\n`,
        );
        const lines = bookmarkLines(state.committed?.bookmark);
        if (lines.length === 1) process.stdout.write(`  bookmark:  ${lines[0]}\n`);
        else process.stdout.write(`  bookmarks:\n${lines.map((line) => `    ${line}\n`).join('')}`);
        const lag =
          state.committed === undefined
            ? ''
            : `, committed ${Math.round((Date.now() - Date.parse(state.committed.at)) / 60_000)} min ago`;
        process.stdout.write(
          `  lag:       ${typeof waiting === 'number' ? plural(waiting, 'chunk') : waiting} staged but not loaded${lag}\n`,
        );
        for (const skip of state.skipped ?? [])
          process.stdout.write(
            `  skipped:   chunk ${formatPosition(skip)} (${plural(skip.records, 'record')} never loaded) by ${skip.by} at ${skip.at}: ${skip.reason}\n`,
          );
        if (state.lease !== undefined && state.lease.expiresAt > Date.now()) {
          const gone = options.aws !== true && localHolderIfDead(state.lease.holder) !== undefined;
          process.stdout.write(
            `  running:   lease held by ${state.lease.holder} (run ${state.lease.run}, token ${state.lease.token})${gone ? ' — its process is gone; the next run takes over' : ''}\n`,
          );
        }
      }
    });
}
