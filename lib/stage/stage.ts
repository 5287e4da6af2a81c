import type { Readable } from 'node:stream';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';

/**
 * Where chunks wait to be loaded: a folder locally, an S3 bucket in AWS.
 * A put is all or nothing: a reader never sees half a chunk.
 */
export interface Stage {
  /** Names the stage for people, e.g. `/home/me/.tributary` or `s3://bucket`. */
  readonly description: string;
  /** Stores a gzip chunk under `key` with its metadata. */
  put(key: string, gzipBody: Buffer, metadata: ChunkMetadata): Promise<void>;
  /** The chunk's gzip bytes as a stream. */
  open(key: string): Promise<Readable>;
  metadata(key: string): Promise<ChunkMetadata | undefined>;
  /** Chunk keys under a prefix, sorted (so in (run, seq) order). */
  list(prefix: string): Promise<string[]>;
  /**
   * Records that a chunk is loaded, after its load committed: only loaded chunks may expire (the S3
   * stage tags the object; its lifecycle rule expires tagged objects only).
   */
  markLoaded(key: string): Promise<void>;
  /** A URI or path a person can paste into `trib replay`. */
  uriOf(key: string): string;
}

export class ChunkNotFoundError extends Error {
  override readonly name = 'ChunkNotFoundError';
}
