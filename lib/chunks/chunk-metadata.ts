import type { ChunkPosition, ChunkRef } from './chunk-position.ts';

/** What we know about a staged chunk without reading it: stored beside it (S3 metadata, a sidecar file). */
export interface ChunkMetadata extends ChunkRef {
  readonly records: number;
  readonly streams: readonly string[];
  /**
   * The chunk that must be loaded before this one. For seq > 0 it is seq - 1 of the same run; for a
   * run's first chunk it is the tap's last staged chunk when the run started, so a new run never loads
   * past a chunk of an earlier run that is still waiting.
   */
  readonly previous?: ChunkPosition;
}

export function previousOf(
  metadata: Pick<ChunkMetadata, 'run' | 'seq' | 'previous'>,
): ChunkPosition | undefined {
  return metadata.seq > 0 ? { run: metadata.run, seq: metadata.seq - 1 } : metadata.previous;
}
