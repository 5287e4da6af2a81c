/**
 * The stage and state store an operator command works on: the pipeline file's folders locally, or
 * with `--aws` the deployed stack's bucket and table.
 */
import { loadPipeline } from '../pipeline/load-pipeline.ts';
import { FolderStage } from '../stage/folder-stage.ts';
import type { Stage } from '../stage/stage.ts';
import { FileStateStore } from '../state/file-state-store.ts';
import type { StateStore } from '../state/state-store.ts';
import { loadAwsClients } from './aws-clients.ts';

export interface TapPortOptions {
  readonly pipeline: string;
  readonly aws?: boolean;
  readonly bucket?: string;
  readonly table?: string;
}

export async function tapPorts(
  options: TapPortOptions,
  tap?: string,
): Promise<{ stage: Stage; stateStore: StateStore }> {
  if (options.aws === true) {
    if (options.bucket === undefined || options.table === undefined)
      throw new Error(
        '--aws needs --bucket and --table (the stack outputs StageBucketName and StateTableName)',
      );
    const { awsStage, awsStateStore } = await loadAwsClients();
    return { stage: awsStage(options.bucket), stateStore: awsStateStore(options.table, options.bucket) };
  }
  const pipeline = await loadPipeline(options.pipeline);
  if (tap !== undefined && !pipeline.taps.has(tap))
    throw new Error(
      `${options.pipeline}: no tap named ${JSON.stringify(tap)}. Taps: ${[...pipeline.taps.keys()].join(', ')}.`,
    );
  return { stage: new FolderStage(pipeline.stagePath), stateStore: new FileStateStore(pipeline.statePath) };
}
