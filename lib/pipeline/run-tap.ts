/**
 * One local sync of one tap, end to end (DESIGN.md data flow):
 * 1. take the run lease, so two runs of a tap never overlap;
 * 2. load chunks earlier runs staged but did not load (the local stand-in for SQS redelivery);
 * 3. run the streamer from `staged ?? committed`, staging chunks while a persister loop loads them;
 * 4. record the run and release the lease.
 * A failure anywhere keeps every bookmark where the loaded data puts it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChunkLimits } from '../chunks/chunk-writer.ts';
import { readChunk } from '../chunks/read-chunk.ts';
import { newRunId } from '../chunks/run-id.ts';
import type { Destination } from '../destinations/destination.ts';
import { type ChunkOutcome, type ChunkToLoad, loadChunks } from '../persister/load-chunks.ts';
import { RecordValidators } from '../persister/record-validator.ts';
import type { ChunkMessage } from '../queue/chunk-queue.ts';
import { InProcessChunkQueue } from '../queue/in-process-queue.ts';
import { chunksWaiting } from '../stage/chunks-waiting.ts';
import type { Stage } from '../stage/stage.ts';
import { type StateStore, startingBookmark } from '../state/state-store.ts';
import { findStreamer } from '../streamers/index.ts';
import { chunkLimitsOf, type TapConfig } from './pipeline-config.ts';
import { streamReport, type TapReport } from './run-report.ts';
import { stageRun } from './stage-run.ts';

export interface TapRunContext {
  readonly stage: Stage;
  readonly stateStore: StateStore;
  readonly destination: Destination;
  readonly limits?: ChunkLimits;
  /** How long a run may hold its lease without renewing it. @default 15 minutes */
  readonly leaseTtlMs?: number;
  readonly onProgress?: (report: TapReport) => void;
  readonly log?: (line: string) => void;
}

export async function runTap(tap: TapConfig, context: TapRunContext): Promise<TapReport> {
  const started = Date.now();
  const { stage, stateStore, destination } = context;
  const before = await stateStore.read(tap.name);
  const report: TapReport = {
    tap: tap.name,
    run: undefined,
    status: 'succeeded',
    chunksCaughtUp: 0,
    chunksStaged: 0,
    chunksLoaded: 0,
    streams: new Map(),
    durationMs: 0,
    bookmarkBefore: before.committed?.bookmark,
    bookmarkAfter: before.committed?.bookmark,
  };
  const owner = `${hostname()}:${process.pid}:${started}-${randomBytes(3).toString('hex')}`;
  const leaseTtlMs = context.leaseTtlMs ?? 15 * 60_000;
  const deadOwner = localOwnerIfDead(before.lease?.owner);
  if (deadOwner !== undefined)
    context.log?.(
      `tap ${tap.name}: taking over the lease of ${deadOwner}, a process on this host that no longer runs`,
    );
  if (!(await stateStore.acquireLease(tap.name, owner, leaseTtlMs, deadOwner))) {
    const holder = (await stateStore.read(tap.name)).lease;
    report.status = 'skipped';
    report.error = `another run holds the lease of tap ${tap.name}${holder === undefined ? '' : ` (${holder.owner}, until ${new Date(holder.expiresAt).toISOString()})`}; it was not run again`;
    report.durationMs = Date.now() - started;
    return report;
  }
  const renew = setInterval(() => void stateStore.acquireLease(tap.name, owner, leaseTtlMs), leaseTtlMs / 3);
  const validators = new RecordValidators();
  const load = async (message: ChunkMessage): Promise<ChunkOutcome> => {
    const chunk: ChunkToLoad = {
      ...message,
      source: stage.uriOf(message.key),
      messages: () => readChunk(stage, message.key),
    };
    const [outcome] = await loadChunks(tap.name, [chunk], { destination, stateStore, validators });
    if (outcome === undefined) throw new Error(`no outcome for chunk ${message.key}`);
    for (const [stream, counts] of Object.entries(outcome.counts)) {
      const target = streamReport(report, stream);
      target.inserted += counts.inserted;
      target.updated += counts.updated;
      target.deleted += counts.deleted;
    }
    return outcome;
  };
  try {
    report.chunksCaughtUp = await catchUp(tap.name, stage, stateStore, load);
    await streamAndLoad(tap, context, report, load);
  } catch (error) {
    report.status = 'failed';
    report.error = (error as Error).message;
  } finally {
    clearInterval(renew);
    const after = await stateStore.read(tap.name);
    report.bookmarkAfter = after.committed?.bookmark;
    report.durationMs = Date.now() - started;
    await stateStore.recordLastRun(tap.name, {
      run: report.run ?? '-',
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      status: report.status === 'failed' ? 'failed' : 'succeeded',
      records: [...report.streams.values()].reduce((sum, stream) => sum + stream.recordsRead, 0),
      chunks: report.chunksStaged,
      ...(report.error === undefined ? {} : { error: report.error }),
    });
    await stateStore.releaseLease(tap.name, owner);
  }
  return report;
}

/** A lease owner `host:pid:start` on this host whose process is gone (a killed local run). */
function localOwnerIfDead(owner: string | undefined): string | undefined {
  const [host, pid] = owner?.split(':') ?? [];
  if (owner === undefined || host !== hostname() || pid === undefined || Number(pid) === process.pid)
    return undefined;
  try {
    process.kill(Number(pid), 0);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? owner : undefined;
  }
}

/** Loads, in order, chunks in the stage after the committed bookmark. */
async function catchUp(
  tap: string,
  stage: Stage,
  stateStore: StateStore,
  load: (message: ChunkMessage) => Promise<ChunkOutcome>,
): Promise<number> {
  const committed = (await stateStore.read(tap)).committed;
  let loaded = 0;
  for (const ref of await chunksWaiting(stage, tap, committed)) {
    const metadata = await stage.metadata(ref.key);
    const outcome = await load({ records: 0, streams: [], ...metadata, ...ref });
    if (outcome.status === 'loaded') loaded += 1;
  }
  return loaded;
}

async function streamAndLoad(
  tap: TapConfig,
  context: TapRunContext,
  report: TapReport,
  load: (message: ChunkMessage) => Promise<ChunkOutcome>,
): Promise<void> {
  const { stage, stateStore } = context;
  const streamer = findStreamer(tap.streamer);
  const state = await stateStore.read(tap.name);
  const run = newRunId();
  report.run = run;
  const queue = new InProcessChunkQueue();
  let producing = true;
  let loadError: Error | undefined;

  // The persister side: loads chunks as they are queued, while the streamer goes on.
  const consumer = (async () => {
    for (;;) {
      const [received] = await queue.receive(1);
      if (received === undefined) {
        if (!producing) return;
        await queue.changed();
        continue;
      }
      try {
        await load(received.message);
        await queue.ack(received.receipt);
        report.chunksLoaded += 1;
        context.onProgress?.(report);
      } catch (error) {
        await queue.release(received.receipt);
        loadError = error as Error;
        return;
      }
    }
  })();

  const messages = streamer.run({
    config: tap.config,
    state: startingBookmark(state)?.bookmark,
    ...(tap.streams === undefined ? {} : { selectedStreams: tap.streams }),
    ...(context.log === undefined ? {} : { log: context.log }),
    onMetrics: (stream, metrics) => {
      const target = streamReport(report, stream);
      target.requests += metrics.requests ?? 0;
      target.retries += metrics.retries ?? 0;
    },
  });
  let streamError: unknown;
  try {
    await stageRun({
      tap: tap.name,
      run,
      firstSeq: 0,
      previous: state.staged,
      startBookmark: startingBookmark(state)?.bookmark,
      messages,
      stage,
      stateStore,
      queue,
      limits: { ...chunkLimitsOf(tap), ...context.limits },
      onRecord: (stream) => {
        const target = streamReport(report, stream);
        target.recordsRead += 1;
        if (target.recordsRead % 10_000 === 0) context.onProgress?.(report);
      },
      onChunk: () => {
        report.chunksStaged += 1;
        context.onProgress?.(report);
      },
      shouldStop: () => loadError !== undefined,
    });
  } catch (error) {
    streamError = error;
  } finally {
    producing = false;
    queue.wake();
    await consumer;
  }
  if (streamError !== undefined) {
    const reason = (streamError as Error).message;
    throw new Error(
      `streamer ${tap.streamer} failed: ${reason}. Chunks staged before the failure are kept; the next run resumes from them.`,
      {
        cause: streamError,
      },
    );
  }
  if (loadError !== undefined) {
    throw new Error(
      `${loadError.message}\n  The chunk stays in the stage (${stage.description}); fix the cause and run again, or replay it with \`trib replay\`.`,
      {
        cause: loadError,
      },
    );
  }
}
