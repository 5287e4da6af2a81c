import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';

/** A queue message: where a staged chunk is and what it is. Never the records themselves. */
export interface ChunkMessage extends ChunkMetadata {
  readonly key: string;
}

export interface ReceivedChunk {
  readonly message: ChunkMessage;
  /** Hand back to `ack` or `release`. */
  readonly receipt: string;
}

/**
 * Chunks waiting for the persister, in order per tap (SQS FIFO: group = tap, dedup = run:seq).
 * A received chunk is invisible to other receivers until acked (done) or released (try again).
 */
export interface ChunkQueue {
  send(message: ChunkMessage): Promise<void>;
  /**
   * Sends a chunk again on purpose (a redrive, `trib replay`): under a fresh deduplication id, so the
   * queue does not drop it as a duplicate of its first send; the ledger still loads it at most once.
   */
  replay(message: ChunkMessage): Promise<void>;
  receive(maxMessages?: number): Promise<ReceivedChunk[]>;
  ack(receipt: string): Promise<void>;
  release(receipt: string): Promise<void>;
}

export function deduplicationId(message: Pick<ChunkMessage, 'run' | 'seq'>): string {
  return `${message.run}:${message.seq}`;
}
