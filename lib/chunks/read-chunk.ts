/**
 * Reads a staged chunk: gunzip and parse as the bytes arrive, hashing the compressed bytes on the way.
 * A chunk whose bytes do not match the checksum it was staged with, or that does not gunzip, fails
 * the load (its transaction rolls back) with an error that names the chunk and what to do.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ParsedMessage } from '../protocol/messages.ts';
import { parseMessageBatches } from '../protocol/parser.ts';
import { ChunkNotFoundError, type Stage } from '../stage/stage.ts';
import { parseChunkKey } from './chunk-key.ts';
import type { ChunkMetadata } from './chunk-metadata.ts';

export class CorruptChunkError extends Error {
  override readonly name = 'CorruptChunkError';
}

function corrupt(stage: Stage, key: string, what: string): CorruptChunkError {
  const tap = (() => {
    try {
      return parseChunkKey(key).tap;
    } catch {
      return '<tap>';
    }
  })();
  return new CorruptChunkError(
    `chunk ${stage.uriOf(key)} is damaged: ${what}. Nothing of it was loaded. Its records are still at the source: \`trib rewind ${tap}\` drops the chunks waiting after the committed bookmark and the next run reads them again.`,
  );
}

/**
 * Streams a staged chunk's messages, a batch at a time (see parseMessageBatches); `expected` is its
 * metadata (checked when it has a checksum).
 */
export async function* readChunk(
  stage: Stage,
  key: string,
  expected?: Pick<ChunkMetadata, 'sha256' | 'bytes'>,
): AsyncGenerator<readonly ParsedMessage[]> {
  let body: Readable;
  try {
    body = await stage.open(key);
  } catch (error) {
    if (error instanceof ChunkNotFoundError) throw corrupt(stage, key, 'it is not in the stage any more');
    throw error;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const counted = new Transform({
    transform(piece: Buffer, _encoding, done) {
      hash.update(piece);
      bytes += piece.length;
      done(null, piece);
    },
  });
  const gunzip = createGunzip();
  let unreadable: Error | undefined;
  const fail = (error: Error) => {
    unreadable ??= error;
    gunzip.destroy(error);
  };
  body.on('error', fail);
  counted.on('error', fail);
  gunzip.on('error', (error) => {
    unreadable ??= error;
  });
  try {
    yield* parseMessageBatches(body.pipe(counted).pipe(gunzip), { source: stage.uriOf(key) });
  } catch (error) {
    // A line that does not parse may be damage, not a bad message: the checksum tells which.
    const mismatch = expected?.sha256 === undefined ? undefined : await checksumProblem(stage, key, expected);
    if (mismatch !== undefined) throw corrupt(stage, key, mismatch);
    const cause = unreadable ?? (error as Error);
    if (
      (cause as NodeJS.ErrnoException).code?.startsWith('Z_') === true ||
      /unexpected end of file|incorrect header/i.test(cause.message)
    )
      throw corrupt(stage, key, `it does not gunzip (${cause.message})`);
    throw error;
  }
  if (expected?.sha256 !== undefined) {
    const problem = mismatchOf(hash.digest('hex'), bytes, expected);
    if (problem !== undefined) throw corrupt(stage, key, problem);
  }
}

function mismatchOf(
  actual: string,
  bytes: number,
  expected: Pick<ChunkMetadata, 'sha256' | 'bytes'>,
): string | undefined {
  if (actual === expected.sha256 && (expected.bytes === undefined || bytes === expected.bytes))
    return undefined;
  return `its ${bytes} bytes have SHA-256 ${actual.slice(0, 12)}…, but it was staged as ${expected.bytes ?? '?'} bytes with SHA-256 ${expected.sha256?.slice(0, 12)}… (truncated or changed after staging)`;
}

/** Hashes the whole stored chunk again (only after a failure, to tell damage from a bad message). */
async function checksumProblem(
  stage: Stage,
  key: string,
  expected: Pick<ChunkMetadata, 'sha256' | 'bytes'>,
): Promise<string | undefined> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const piece of await stage.open(key)) {
      hash.update(piece as Buffer);
      bytes += (piece as Buffer).length;
    }
  } catch {
    return undefined; // unreadable now: the original error says more
  }
  return mismatchOf(hash.digest('hex'), bytes, expected);
}
