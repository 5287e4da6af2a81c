import { join } from 'node:path';
import type { ChunkLimits } from '../../lib/chunks/chunk-writer.ts';
import type { Destination } from '../../lib/destinations/destination.ts';
import { DuckDbDestination } from '../../lib/destinations/duckdb/duckdb-destination.ts';
import type { TapConfig } from '../../lib/pipeline/pipeline-config.ts';
import { runTap } from '../../lib/pipeline/run-tap.ts';
import { FolderStage } from '../../lib/stage/folder-stage.ts';
import { FileStateStore } from '../../lib/state/file-state-store.ts';
import type { StateStore } from '../../lib/state/state-store.ts';
import { temporaryFolder } from './chunks.ts';

export const sampleTap = (config: Record<string, unknown> = {}, name = 'sample'): TapConfig => ({
  name,
  streamer: 'sample',
  config: { customers: 2_000, orders: 3_000, state_every: 250, ...config },
  steps: [],
});

/** A local pipeline in a temp folder: stage, state and a DuckDB file, as `trib run` sets them up. */
export async function localPipeline(limits: ChunkLimits = { maxRecords: 1_000 }) {
  const folder = temporaryFolder();
  const stage = new FolderStage(join(folder, '.tributary'));
  const stateStore = new FileStateStore(join(folder, '.tributary', 'state'));
  const warehouse = await DuckDbDestination.open(join(folder, 'warehouse.duckdb'));
  return {
    folder,
    stage,
    stateStore,
    warehouse,
    run: (tap: TapConfig, overrides: { destination?: Destination; stateStore?: StateStore } = {}) =>
      runTap(tap, {
        stage,
        stateStore: overrides.stateStore ?? stateStore,
        destination: overrides.destination ?? warehouse,
        limits,
      }),
    /** Every row of a stream as "id@updated_at", sorted: the warehouse's content in one comparable value. */
    contents: async (stream: string, tap = 'sample') =>
      (
        await warehouse.query(`SELECT id, CAST(updated_at AS VARCHAR) AS u FROM ${tap}.${stream} ORDER BY id`)
      ).map((row) => `${row.id}@${row.u}`),
    count: async (sql: string) => Number((await warehouse.query(sql))[0]?.n),
  };
}
