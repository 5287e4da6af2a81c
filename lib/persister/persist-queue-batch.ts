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
  const parsed: { readonly record: QueueRecord; readonly message: ChunkMessage }[] = [];
  for (const record of records) {
    try {
      parsed.push({ record, message: deps.parse(record.body) });
    } catch (error) {
      deps.log?.(`message ${record.messageId}: ${(error as Error).message}`);
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  for (const group of runsOfOneTap(parsed)) {
    const tap = group[0]?.message.tap as string;
    if (blockedTaps.has(tap)) {
      for (const { record } of group) failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    // Waiting chunks of one tap load in one transaction (one commit is most of a small chunk's cost).
    // Should that fail, they load one at a time, so those before the failing chunk still load.
    const together = group.length > 1 ? await loadTogether(group, deps) : undefined;
    if (together !== undefined) {
      for (const [index, outcome] of together.entries())
        await recordLoaded(deps, group[index]?.message as ChunkMessage, outcome, outcomes);
      continue;
    }
    for (const { record, message } of group) {
      if (blockedTaps.has(tap)) {
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const [outcome] = await loadChunks(tap, [stagedChunk(deps.stage, message)], {
          destination: deps.destination,
          stateStore: deps.stateStore,
          checks,
        });
        if (outcome !== undefined) await recordLoaded(deps, message, outcome, outcomes);
      } catch (error) {
        deps.log?.(`chunk ${message.key} failed: ${(error as Error).message}`, {
          tap: message.tap,
          run: message.run,
          seq: message.seq,
        });
        blockedTaps.add(tap);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
  }
  return { batchItemFailures: failures, outcomes };
}

type ParsedRecord = { readonly record: QueueRecord; readonly message: ChunkMessage };

/** The batch cut where the tap changes: each run keeps the queue's order. */
function runsOfOneTap(parsed: readonly ParsedRecord[]): ParsedRecord[][] {
  const runs: ParsedRecord[][] = [];
  for (const item of parsed) {
    const last = runs.at(-1);
    if (last !== undefined && last[0]?.message.tap === item.message.tap) last.push(item);
    else runs.push([item]);
  }
  return runs;
}

/** The outcomes of loading the group in one transaction, or undefined when that transaction failed. */
async function loadTogether(
  group: readonly ParsedRecord[],
  deps: PersistBatchDeps,
): Promise<ChunkOutcome[] | undefined> {
  try {
    return await loadChunks(
      group[0]?.message.tap as string,
      group.map(({ message }) => stagedChunk(deps.stage, message)),
      { destination: deps.destination, stateStore: deps.stateStore, checks },
    );
  } catch (error) {
    deps.log?.(
      `${group.length} chunks of tap ${group[0]?.message.tap} failed to load together (${(error as Error).message}); loading them one at a time`,
    );
    return undefined;
  }
}

async function recordLoaded(
  deps: PersistBatchDeps,
  message: ChunkMessage,
  outcome: ChunkOutcome,
  outcomes: ChunkOutcome[],
): Promise<void> {
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
