import { type ChunkMessage, type ChunkQueue, deduplicationId, type ReceivedChunk } from './chunk-queue.ts';

/**
 * The local queue: FIFO per tap, one message of a tap in flight at a time (as an SQS FIFO group),
 * duplicate sends of the same run:seq dropped.
 */
export class InProcessChunkQueue implements ChunkQueue {
  private readonly groups = new Map<string, ChunkMessage[]>();
  private readonly inFlight = new Map<string, ChunkMessage>();
  private readonly seen = new Set<string>();
  private nextReceipt = 0;
  private readonly waiters: Array<() => void> = [];

  async send(message: ChunkMessage): Promise<void> {
    const id = `${message.tap}:${deduplicationId(message)}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    await this.replay(message);
  }

  async replay(message: ChunkMessage): Promise<void> {
    const group = this.groups.get(message.tap) ?? [];
    group.push(message);
    this.groups.set(message.tap, group);
    for (const wake of this.waiters.splice(0)) wake();
  }

  async receive(maxMessages = 10): Promise<ReceivedChunk[]> {
    const received: ReceivedChunk[] = [];
    const busyGroups = new Set([...this.inFlight.values()].map((message) => message.tap));
    for (const [tap, group] of this.groups) {
      if (received.length >= maxMessages) break;
      if (busyGroups.has(tap)) continue;
      const message = group[0];
      if (message === undefined) continue;
      const receipt = String(this.nextReceipt++);
      this.inFlight.set(receipt, message);
      received.push({ message, receipt });
    }
    return received;
  }

  async ack(receipt: string): Promise<void> {
    const message = this.take(receipt);
    this.groups.get(message.tap)?.shift();
  }

  async release(receipt: string): Promise<void> {
    this.take(receipt);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Messages not yet acked, per tap. */
  depth(tap?: string): number {
    if (tap !== undefined) return this.groups.get(tap)?.length ?? 0;
    return [...this.groups.values()].reduce((sum, group) => sum + group.length, 0);
  }

  /** Wakes every `changed()` waiter (e.g. when the producer is done). */
  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves when something is sent or released. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private take(receipt: string): ChunkMessage {
    const message = this.inFlight.get(receipt);
    if (message === undefined) throw new Error(`unknown or already settled receipt ${receipt}`);
    this.inFlight.delete(receipt);
    return message;
  }
}
