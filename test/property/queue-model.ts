/**
 * The chunk queue as the property test drives it: what the handlers send to, and Lambda's SQS event
 * source around the persister (batches, partial failures, redelivery, dead-lettering). Two models:
 * SimulatedSqs in memory (fast, with the deduplication window on the world's clock), and SqsQueueModel
 * on the fauxqs emulator (sqs-queue-model.ts).
 */
import type { ChunkMessage, ChunkQueue, ReceivedChunk } from '../../lib/queue/chunk-queue.ts';
import { deduplicationId } from '../../lib/queue/chunk-queue.ts';
import { InjectedFault } from '../../lib/testing/faulty-destination.ts';

const MINUTE = 60_000;

export interface QueueModel extends ChunkQueue {
  /** The nth send or replay from now fails. */
  armSend(nth: number): void;
  disarmSends(): void;
  /**
   * One batch of waiting messages to `handle`, which returns the ids of those that failed: the rest
   * are deleted, the failed ones return to the queue (and are dead-lettered after five receives).
   */
  deliver(
    batchSize: number,
    handle: (messages: { messageId: string; body: string }[]) => Promise<Set<string>>,
  ): Promise<void>;
  /** At-least-once: a message already handled is delivered again. */
  redeliver(pick: number): Promise<void>;
  /** The dead-letter queue, as `trib redrive` receives from it. */
  deadLetterQueue(): ChunkQueue;
  counts(): Promise<{ waiting: number; deadLetters: number }>;
}

interface QueuedMessage {
  readonly id: number;
  readonly message: ChunkMessage;
  receives: number;
}

/** SQS FIFO as Lambda's event source sees it, in memory. */
export class SimulatedSqs implements QueueModel {
  readonly waiting: QueuedMessage[] = [];
  readonly deadLetters: QueuedMessage[] = [];
  readonly deleted: QueuedMessage[] = [];
  private readonly sentAt = new Map<string, number>();
  private nextId = 0;
  private readonly failSends = new Set<number>();
  private sends = 0;

  constructor(private readonly clock: () => number) {}

  async send(message: ChunkMessage): Promise<void> {
    this.sends += 1;
    if (this.failSends.delete(this.sends)) throw new InjectedFault('injected fault: SQS SendMessage failed');
    const dedup = `${message.tap}:${deduplicationId(message)}`;
    const last = this.sentAt.get(dedup);
    if (last !== undefined && this.clock() - last < 5 * MINUTE) return; // FIFO deduplication window
    this.sentAt.set(dedup, this.clock());
    this.waiting.push({ id: this.nextId++, message: structuredClone(message), receives: 0 });
  }

  /** A redrive or replay: a fresh deduplication id, so it is never dropped as a duplicate. */
  async replay(message: ChunkMessage): Promise<void> {
    this.sends += 1;
    if (this.failSends.delete(this.sends)) throw new InjectedFault('injected fault: SQS SendMessage failed');
    this.waiting.push({ id: this.nextId++, message: structuredClone(message), receives: 0 });
  }

  /** The dead-letter queue, as `trib redrive` receives from it. */
  deadLetterQueue(): ChunkQueue {
    const letters = this.deadLetters;
    return {
      send: async () => {},
      replay: async () => {},
      receive: async (max = 10) =>
        letters.slice(0, max).map((letter) => ({ message: letter.message, receipt: String(letter.id) })),
      ack: async (receipt) => {
        const index = letters.findIndex((letter) => String(letter.id) === receipt);
        if (index >= 0) letters.splice(index, 1);
      },
      release: async () => {},
    };
  }

  armSend(nth: number): void {
    this.failSends.add(this.sends + nth);
  }

  disarmSends(): void {
    this.failSends.clear();
  }

  async deliver(
    batchSize: number,
    handle: (messages: { messageId: string; body: string }[]) => Promise<Set<string>>,
  ): Promise<void> {
    const batch = this.waiting.slice(0, batchSize);
    if (batch.length === 0) return;
    for (const message of batch) message.receives += 1;
    const failed = await handle(
      batch.map((message) => ({ messageId: String(message.id), body: JSON.stringify(message.message) })),
    );
    for (const message of batch) {
      const index = this.waiting.indexOf(message);
      if (!failed.has(String(message.id))) {
        this.waiting.splice(index, 1);
        this.deleted.push(message);
      } else if (message.receives >= 5) {
        this.waiting.splice(index, 1);
        this.deadLetters.push(message);
      }
    }
  }

  async redeliver(pick: number): Promise<void> {
    const message = this.deleted[pick % Math.max(1, this.deleted.length)];
    if (message === undefined) return;
    this.waiting.unshift({ ...message, receives: 0 });
  }

  async counts(): Promise<{ waiting: number; deadLetters: number }> {
    return { waiting: this.waiting.length, deadLetters: this.deadLetters.length };
  }

  /** Not used: the world drives the persister directly, as Lambda's event source does. */
  async receive(): Promise<ReceivedChunk[]> {
    return [];
  }
  async ack(): Promise<void> {}
  async release(): Promise<void> {}
}
