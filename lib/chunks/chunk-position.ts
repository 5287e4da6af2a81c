/**
 * Where a chunk sits in a tap's history. Run ids sort by time, so (run, seq) orders every chunk
 * a tap ever staged; the committed bookmark only ever moves forward in that order.
 */
export interface ChunkPosition {
  readonly run: string;
  readonly seq: number;
}

export interface ChunkRef extends ChunkPosition {
  readonly tap: string;
}

export function comparePositions(a: ChunkPosition, b: ChunkPosition): number {
  if (a.run !== b.run) return a.run < b.run ? -1 : 1;
  return a.seq - b.seq;
}

export function formatPosition(position: ChunkPosition): string {
  return `${position.run}/${String(position.seq).padStart(6, '0')}`;
}
