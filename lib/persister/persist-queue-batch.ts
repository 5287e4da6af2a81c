/**
 * The persister's side of the queue: a batch of queue messages, each naming a staged chunk. Chunks
 * load in order; a chunk that fails is reported back (SQS partial batch failure) together with every
 * later message of the same tap, so a tap's order is kept and nothing loads past a gap. Other taps go on.
 */
import type { Destination } from '../destinations/destination.ts';
import type { ChunkMessage } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import { type ChunkOutcome, loadChunks, stagedChunk } from './load-chunks.ts';
import { RecordChecks } from './record-check.ts';

export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
}

export interface PersistBatchDeps {
  readonly stage: Stage;
  readonly destination: Destination;
  readonly stateStore: StateStore;
  readonly parse: (body: string) => ChunkMessage;
  readonly log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface BatchResult {
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly outcomes: ChunkOutcome[];
}

const checks = new RecordChecks();

export async function persistBatch(
  records: readonly QueueRecord[],
  deps: PersistBatchDeps,
): Promise<BatchResult> {
  const failures: { itemIdentifier: string }[] = [];
  const outcomes: ChunkOutcome[] = [];
  const blockedTaps = new Set<string>();
  for (const record of records) {
    let message: ChunkMessage;
    try {
      message = deps.parse(record.body);
    } catch (error) {
      deps.log?.(`message ${record.messageId}: ${(error as Error).message}`);
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    if (blockedTaps.has(message.tap)) {
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      const [outcome] = await loadChunks(message.tap, [stagedChunk(deps.stage, message)], {
        destination: deps.destination,
        stateStore: deps.stateStore,
        checks,
      });
      if (outcome !== undefined) {
        outcomes.push(outcome);
        await markLoaded(deps, message.key);
        deps.log?.(`chunk ${message.key}: ${outcome.status}, ${outcome.records} records`, {
          tap: message.tap,
          run: message.run,
          seq: message.seq,
          status: outcome.status,
          records: outcome.records,
        });
      }
    } catch (error) {
      deps.log?.(`chunk ${message.key} failed: ${(error as Error).message}`, {
        tap: message.tap,
        run: message.run,
        seq: message.seq,
      });
      blockedTaps.add(message.tap);
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures, outcomes };
}

/** Tags a loaded chunk so the stage may expire it; a chunk left untagged is only kept longer. */
async function markLoaded(deps: PersistBatchDeps, key: string): Promise<void> {
  try {
    await deps.stage.markLoaded(key);
  } catch (error) {
    deps.log?.(
      `chunk ${key}: loaded, but could not be marked loaded (it is kept, not expired): ${(error as Error).message}`,
    );
  }
}
