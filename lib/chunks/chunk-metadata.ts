import type { ChunkPosition, ChunkRef } from './chunk-position.ts';

/** What we know about a staged chunk without reading it: stored beside it (S3 metadata, a sidecar file). */
export interface ChunkMetadata extends ChunkRef {
  readonly records: number;
  readonly streams: readonly string[];
  /**
   * The chunk that must be loaded before this one: the tap's last staged chunk when this one was
   * staged (seq - 1 of the same run, or the last chunk of an earlier run), or null for the first
   * chunk the tap ever staged, which loads only into an empty ledger. Required: every chunk waits
   * for its predecessor (DESIGN.md rule 4), seq 0 of a run included.
   */
  readonly previous: ChunkPosition | null;
  /** SHA-256 of the gzip bytes (hex) and their length, checked before loading (absent on older chunks). */
  readonly sha256?: string;
  readonly bytes?: number;
}

/** A chunk's predecessor, written as it is in S3 metadata and messages: `run/seq`, or `none`. */
export function formatPrevious(previous: ChunkPosition | null): string {
  return previous === null ? 'none' : `${previous.run}/${previous.seq}`;
}

export class ChunkMetadataError extends Error {
  override readonly name = 'ChunkMetadataError';
}

export function parsePrevious(text: string | undefined, where: string): ChunkPosition | null {
  if (text === 'none') return null;
  const match = /^(.+)\/(\d+)$/.exec(text ?? '');
  if (match?.[1] === undefined || match[2] === undefined)
    throw new ChunkMetadataError(
      `${where}: the chunk names no predecessor (received ${JSON.stringify(text)}; expected run/seq or none). It was staged by an older Tributary, which did not record predecessors; if you know it comes next, load it as a plain Singer stream: \`gunzip -c CHUNK | trib persist --to DESTINATION\`.`,
    );
  return { run: match[1], seq: Number(match[2]) };
}
