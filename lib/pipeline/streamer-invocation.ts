/**
 * One invocation of the streamer in a serverless runtime (DESIGN.md data flow). A scheduled event
 * `{tap}` starts a run; when the time budget runs low the run stages what it has up to the last STATE
 * and hands the rest to a new invocation `{tap, run, continuation}`, which continues the same run
 * from the staged bookmark. The run holds the tap's lease from its first invocation to its last.
 */

import type { ChunkPosition } from '../chunks/chunk-position.ts';
import type { ChunkLimits } from '../chunks/chunk-writer.ts';
import { newRunId } from '../chunks/run-id.ts';
import type { ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import { type StateStore, startingBookmark } from '../state/state-store.ts';
import { findStreamer } from '../streamers/index.ts';
import { chunkLimitsOf, type PipelineConfig } from './pipeline-config.ts';
import { stageRun } from './stage-run.ts';

export interface StreamerEvent {
  readonly tap: string;
  /** Set on a continuation: the run it continues. */
  readonly run?: string;
  readonly continuation?: { readonly nextSeq: number; readonly previous?: ChunkPosition };
}

export interface ContinuationInvoker {
  continueWith(event: StreamerEvent): Promise<void>;
}

export interface StreamerInvocationDeps {
  readonly pipeline: PipelineConfig;
  readonly stage: Stage;
  readonly queue: ChunkQueue;
  readonly stateStore: StateStore;
  readonly invoker: ContinuationInvoker;
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  readonly remainingMs: () => number;
  /** Kept free at the end for staging the last chunk and handing off. @default 60 s */
  readonly marginMs?: number;
  readonly limits?: ChunkLimits;
  readonly log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface InvocationResult {
  readonly status: 'finished' | 'continued' | 'skipped';
  readonly tap: string;
  readonly run?: string;
  readonly records: number;
  readonly chunks: number;
}

export class TapRunError extends Error {
  override readonly name = 'TapRunError';
}

/** How long an invocation's lease lasts: beyond Lambda's 15 minutes, so only a dead run loses it. */
const LEASE_TTL_MS = 20 * 60_000;

export async function runStreamerInvocation(
  event: StreamerEvent,
  deps: StreamerInvocationDeps,
): Promise<InvocationResult> {
  const tap = deps.pipeline.taps.get(event.tap);
  if (tap === undefined) {
    throw new TapRunError(
      `event names tap ${JSON.stringify(event.tap)}, which is not in the pipeline; taps: ${[...deps.pipeline.taps.keys()].join(', ')}`,
    );
  }
  const run = event.run ?? newRunId();
  const owner = `run:${run}`;
  if (!(await deps.stateStore.acquireLease(tap.name, owner, LEASE_TTL_MS))) {
    const holder = (await deps.stateStore.read(tap.name)).lease;
    deps.log?.(
      `tap ${tap.name}: another run holds the lease (${holder?.owner ?? 'unknown'}); this event does nothing`,
      { tap: tap.name },
    );
    return { status: 'skipped', tap: tap.name, records: 0, chunks: 0 };
  }
  const started = new Date().toISOString();
  const state = await deps.stateStore.read(tap.name);
  const bookmark = startingBookmark(state)?.bookmark;
  const deadline = Date.now() + deps.remainingMs() - (deps.marginMs ?? 60_000);
  const streamer = findStreamer(tap.streamer);
  let records = 0;
  let chunks = 0;
  let outOfTime = false;
  try {
    const result = await stageRun({
      tap: tap.name,
      run,
      firstSeq: event.continuation?.nextSeq ?? 0,
      previous: event.continuation === undefined ? state.staged : event.continuation.previous,
      startBookmark: bookmark,
      messages: streamer.run({
        config: tap.config,
        state: bookmark,
        deadline,
        onDeadline: () => {
          outOfTime = true;
        },
        ...(tap.streams === undefined ? {} : { selectedStreams: tap.streams }),
        log: (line) => deps.log?.(line, { tap: tap.name, run }),
      }),
      stage: deps.stage,
      stateStore: deps.stateStore,
      queue: deps.queue,
      limits: { ...chunkLimitsOf(tap), ...deps.limits },
      onRecord: () => {
        records += 1;
      },
      onChunk: (_chunk, metadata) => {
        chunks += 1;
        deps.log?.(`staged chunk ${metadata.seq} of run ${run}: ${metadata.records} records`, {
          tap: tap.name,
          run,
          seq: metadata.seq,
        });
      },
      // The streamer stops itself at the deadline; this later cut-off only guards against one that does not.
      shouldStop: () => Date.now() >= deadline + (deps.marginMs ?? 60_000) / 2,
    });
    if (outOfTime || result.stopped) {
      // Out of time: the rest of this run goes to a new invocation, which keeps the lease.
      await deps.stateStore.acquireLease(tap.name, owner, LEASE_TTL_MS);
      await deps.invoker.continueWith({ tap: tap.name, run, continuation: { nextSeq: result.nextSeq } });
      deps.log?.(
        `tap ${tap.name}: time budget spent; run ${run} continues in a new invocation from chunk ${result.nextSeq}`,
        { tap: tap.name, run },
      );
      return { status: 'continued', tap: tap.name, run, records, chunks };
    }
    await deps.stateStore.recordLastRun(tap.name, {
      run,
      startedAt: started,
      finishedAt: new Date().toISOString(),
      status: 'succeeded',
      records,
      chunks,
    });
    await deps.stateStore.releaseLease(tap.name, owner);
    return { status: 'finished', tap: tap.name, run, records, chunks };
  } catch (error) {
    const message = `tap ${tap.name}, run ${run}: ${(error as Error).message}. Chunks staged before the failure are kept; the next run resumes from them.`;
    await deps.stateStore
      .recordLastRun(tap.name, {
        run,
        startedAt: started,
        finishedAt: new Date().toISOString(),
        status: 'failed',
        records,
        chunks,
        error: message,
      })
      .catch(() => {});
    await deps.stateStore.releaseLease(tap.name, owner).catch(() => {});
    throw new TapRunError(message, { cause: error });
  }
}
