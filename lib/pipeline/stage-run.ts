/**
 * Runs a streamer and stages its output: messages → chunk writer → stage → state `staged` → queue.
 * Shared by `trib run` and the Lambda streamer. A chunk is staged and recorded before it is
 * enqueued, so every queued chunk is durably in the stage.
 */

import { chunkKey } from '../chunks/chunk-key.ts';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import { type ChunkLimits, ChunkWriter, type ClosedChunk } from '../chunks/chunk-writer.ts';
import type { Message } from '../protocol/messages.ts';
import type { ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';

export interface StageRunOptions {
  readonly tap: string;
  readonly run: string;
  readonly firstSeq: number;
  /** The tap's last staged chunk before this run, which this run's first chunk follows. */
  readonly previous: ChunkPosition | undefined;
  readonly startBookmark: unknown;
  readonly messages: AsyncIterable<Message>;
  readonly stage: Stage;
  readonly stateStore: StateStore;
  readonly queue: ChunkQueue;
  readonly limits?: ChunkLimits;
  readonly onRecord?: (stream: string) => void;
  readonly onChunk?: (chunk: ClosedChunk, metadata: ChunkMetadata) => void;
  /** Checked between messages; when it returns true the run stops at the last STATE. */
  readonly shouldStop?: () => boolean;
}

export interface StagedRun {
  /** The seq the next chunk of this run would take. */
  readonly nextSeq: number;
  readonly stopped: boolean;
}

export async function stageRun(options: StageRunOptions): Promise<StagedRun> {
  const { tap, run, stage, stateStore, queue } = options;
  const writer = new ChunkWriter(
    async (chunk) => {
      const metadata: ChunkMetadata = {
        tap,
        run,
        seq: chunk.seq,
        records: chunk.records,
        streams: [...chunk.recordsByStream.keys()],
        ...(chunk.seq === 0 && options.previous !== undefined ? { previous: options.previous } : {}),
      };
      const key = chunkKey(metadata);
      await stage.put(key, chunk.gzipBody, metadata);
      await stateStore.markStaged(tap, {
        run,
        seq: chunk.seq,
        bookmark: chunk.bookmark,
        at: new Date().toISOString(),
      });
      await queue.send({ ...metadata, key });
      options.onChunk?.(chunk, metadata);
    },
    { ...options.limits, firstSeq: options.firstSeq, startBookmark: options.startBookmark },
  );
  for await (const message of options.messages) {
    await writer.write(message);
    if (message.type === 'RECORD') options.onRecord?.(message.stream);
    if (message.type === 'STATE' && options.shouldStop?.() === true) {
      return { nextSeq: await writer.end(), stopped: true };
    }
  }
  return { nextSeq: await writer.end(), stopped: false };
}
