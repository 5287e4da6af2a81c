/**
 * Chunk keys: `stage/<tap>/<run>/<seq, 6 digits>.jsonl.gz`. The same key names a file under the local
 * stage folder and an object in the S3 stage bucket, so a key seen in a log can be replayed anywhere.
 */
import type { ChunkRef } from './chunk-position.ts';

const KEY_PATTERN = /(?:^|\/)stage\/([^/]+)\/([^/]+)\/(\d{6,})\.jsonl\.gz$/;

export function chunkKey(ref: ChunkRef): string {
  return `stage/${ref.tap}/${ref.run}/${String(ref.seq).padStart(6, '0')}.jsonl.gz`;
}

export function runPrefix(tap: string, run?: string): string {
  return run === undefined ? `stage/${tap}/` : `stage/${tap}/${run}/`;
}

export class ChunkKeyError extends Error {
  override readonly name = 'ChunkKeyError';
}

/** Reads tap, run and seq back from a key, a file path or an s3:// URI that ends in a chunk key. */
export function parseChunkKey(pathOrKey: string): ChunkRef & { key: string } {
  const normalised = pathOrKey.replaceAll('\\', '/');
  const match = KEY_PATTERN.exec(normalised);
  if (match === null) {
    throw new ChunkKeyError(
      `${JSON.stringify(pathOrKey)} is not a chunk: expected a path ending in stage/<tap>/<run>/<seq>.jsonl.gz, e.g. .tributary/stage/sample/20260101T000000000Z-ab12cd/000000.jsonl.gz`,
    );
  }
  const [, tap = '', run = '', seq = '0'] = match;
  return { tap, run, seq: Number(seq), key: `stage/${tap}/${run}/${seq}.jsonl.gz` };
}
