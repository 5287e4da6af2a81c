import { parseChunkKey, runPrefix } from '../chunks/chunk-key.ts';
import { type ChunkPosition, comparePositions } from '../chunks/chunk-position.ts';
import type { Stage } from './stage.ts';

/**
 * A tap's staged chunks past its committed bookmark, in (run, seq) order: what the persister has not
 * loaded yet (`trib run` loads them first; `trib status` counts them as lag).
 */
export async function chunksWaiting(stage: Stage, tap: string, committed: ChunkPosition | undefined) {
  return (await stage.list(runPrefix(tap)))
    .map(parseChunkKey)
    .filter((ref) => ref.tap === tap && (committed === undefined || comparePositions(ref, committed) > 0));
}
