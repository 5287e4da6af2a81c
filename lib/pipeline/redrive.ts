/**
 * Unsticking a tap. A chunk that kept failing sits in the dead-letter queue and its successors wait
 * behind it (each loads only after its predecessor). Once the cause is fixed, the tap's chunks recorded
 * as staged and not yet committed are delivered again, oldest first — from the state store's chain, not
 * from whatever the dead-letter queue holds, so an orphan is never loaded and nothing is missed. The
 * persister's ledger drops what it already loaded, so a redrive can be repeated.
 */
import { type ChunkPosition, comparePositions } from '../chunks/chunk-position.ts';
import type { ChunkMessage, ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import { waitingChunks } from './run-protocol.ts';

export interface RedrivePorts {
  readonly stage: Stage;
  readonly stateStore: StateStore;
}

/**
 * Delivers the tap's waiting chunks in order (after `after`, when given: `trib replay` has delivered
 * that one already). `deliver` sends one to the queue under a fresh deduplication id, or loads it.
 * Returns the chunks delivered.
 */
export async function redriveTap(
  tap: string,
  ports: RedrivePorts,
  deliver: (chunk: ChunkMessage) => Promise<void>,
  after?: ChunkPosition,
): Promise<ChunkMessage[]> {
  const waiting = await waitingChunks(ports.stage, await ports.stateStore.read(tap));
  const due = after === undefined ? waiting : waiting.filter((chunk) => comparePositions(chunk, after) > 0);
  for (const chunk of due) await deliver(chunk);
  return due;
}

/**
 * Removes the tap's messages from the dead-letter queue once its chain was delivered again (each is
 * either on that chain, committed, or an orphan that must not load), so the alarm clears. Other taps'
 * messages are handed back untouched. Returns how many were removed.
 */
export async function clearDeadLetters(
  tap: string,
  deadLetters: ChunkQueue,
  maxReceives = 100,
): Promise<number> {
  let removed = 0;
  const handedBack = new Set<string>();
  for (let receive = 0; receive < maxReceives; receive += 1) {
    const batch = await deadLetters.receive(10);
    if (batch.length === 0) break;
    let fresh = false;
    for (const { message, receipt } of batch) {
      if (message.tap === tap) {
        await deadLetters.ack(receipt);
        removed += 1;
        fresh = true;
      } else {
        if (!handedBack.has(message.key)) fresh = true;
        handedBack.add(message.key);
        await deadLetters.release(receipt);
      }
    }
    if (!fresh) break; // only other taps' messages, seen before: this tap has none left
  }
  return removed;
}
