/**
 * One local sync of one tap, end to end (DESIGN.md data flow), on the run protocol of run-protocol.ts:
 * 1. begin a run (the fenced lease; a lease held by a live run means this one does nothing);
 * 2. load the chunks recorded as staged but not committed (the local stand-in for SQS redelivery);
 * 3. run the streamer from the resume point, staging chunks while a persister loop loads them;
 * 4. record the run and free the lease, both fenced.
 * A failure anywhere keeps every bookmark where the loaded data puts it.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChunkLimits } from '../chunks/chunk-writer.ts';
import type { Destination } from '../destinations/destination.ts';
import type { EventInbox } from '../ingest/event-inbox.ts';
import { folderIngestStore } from '../ingest/folder-inbox.ts';
import { type ChunkOutcome, loadChunks, stagedChunk } from '../persister/load-chunks.ts';
import { RecordChecks } from '../persister/record-check.ts';
import type { ChunkMessage } from '../queue/chunk-queue.ts';
import { InProcessChunkQueue } from '../queue/in-process-queue.ts';
import { FolderStage } from '../stage/folder-stage.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import { prepareSteps } from '../steps/run-steps.ts';
import { StreamsFailedError } from '../streamer/define-streamer.ts';
import type { Streamer } from '../streamer/streamer.ts';
import { afterFailure } from './after-failure.ts';
import { chunkLimitsOf, type TapConfig } from './pipeline-config.ts';
import {
  abandonRun,
  finishRun,
  type HeldRun,
  keepLease,
  LeaseLostError,
  type RunPorts,
  takeRun,
  waitingChunks,
} from './run-protocol.ts';
import { streamReport, type TapReport } from './run-report.ts';
import { SourceFailedError, stageRun } from './stage-run.ts';
import { streamerOf } from './streamer-of.ts';

export interface TapRunContext {
  readonly stage: Stage;
  readonly stateStore: StateStore;
  readonly destination: Destination;
  readonly limits?: ChunkLimits;
  /** How long a run may hold its lease without renewing it. @default 15 minutes */
  readonly leaseTtlMs?: number;
  readonly onProgress?: (report: TapReport) => void;
  readonly log?: (line: string) => void;
  readonly clock?: () => number;
  readonly runId?: (runNumber: number) => string;
  /** Finds a streamer by name. @default the built-in streamers */
  readonly streamers?: (name: string) => Streamer;
  /** An ingest tap's inbox. @default `<stage>/inbox/<tap>` for a folder stage */
  readonly inboxOf?: (tap: string) => EventInbox;
  /** An interrupt (Ctrl-C): when it returns true the run stops at the next STATE and keeps what it read. */
  readonly interrupted?: () => boolean;
}

export async function runTap(tap: TapConfig, context: TapRunContext): Promise<TapReport> {
  const clock = context.clock ?? Date.now;
  const started = clock();
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
  const holder = `${hostname()}:${process.pid}:${started}-${randomBytes(3).toString('hex')}`;
  const leaseTtlMs = context.leaseTtlMs ?? 15 * 60_000;
  const deadHolder = localHolderIfDead(before.lease?.holder);
  if (deadHolder !== undefined)
    context.log?.(
      `tap ${tap.name}: taking over the lease of ${deadHolder}, a process on this host that no longer runs`,
    );
  // The local queue lives in this process; chunks are sent to it as they are staged.
  const queue = new InProcessChunkQueue();
  const ports: RunPorts = {
    stage,
    queue,
    stateStore,
    clock,
    ...(context.runId === undefined ? {} : { runId: context.runId }),
  };
  const start = await takeRun(
    { tap: tap.name },
    { holder, ttlMs: leaseTtlMs, ...(deadHolder === undefined ? {} : { takeOverFrom: deadHolder }) },
    ports,
  );
  if (start.status === 'skipped') {
    report.status = 'skipped';
    report.error = `${start.reason}; it was not run again`;
    report.durationMs = clock() - started;
    const at = new Date(clock()).toISOString();
    await stateStore.recordLastRun(tap.name, {
      run: '-',
      startedAt: new Date(started).toISOString(),
      finishedAt: at,
      status: 'skipped',
      records: 0,
      chunks: 0,
      error: report.error,
    });
    return report;
  }
  const held = start.run;
  report.run = held.lease.run;
  const lease = keepLease(held, leaseTtlMs, ports);
  const checks = new RecordChecks();
  const load = async (message: ChunkMessage): Promise<ChunkOutcome> => {
    const [outcome] = await loadChunks(tap.name, [stagedChunk(stage, message)], {
      destination,
      stateStore,
      checks,
    });
    if (outcome === undefined) throw new Error(`no outcome for chunk ${message.key}`);
    await stage.markLoaded(message.key);
    for (const [stream, counts] of Object.entries(outcome.counts)) {
      const target = streamReport(report, stream);
      target.inserted += counts.inserted;
      target.updated += counts.updated;
      target.deleted += counts.deleted;
    }
    return outcome;
  };
  let failure: Error | undefined;
  try {
    for (const message of await waitingChunks(stage, held.state)) {
      if ((await load(message)).status === 'loaded') report.chunksCaughtUp += 1;
    }
    await streamAndLoad(tap, held, ports, queue, context, report, load, () => lease.lost());
    const lost = lease.lost();
    if (lost !== undefined) throw new LeaseLostError(`the run lost its lease while it ran: ${lost}`);
    if (context.interrupted?.() === true) {
      report.status = 'interrupted';
      report.error =
        'interrupted: stopped at the last STATE; everything read until then is loaded and its bookmark committed, and the next run resumes there';
    }
  } catch (error) {
    failure = error as Error;
    report.status = 'failed';
    report.error = failure.message;
  } finally {
    await lease.stop();
    const after = await stateStore.read(tap.name);
    report.bookmarkAfter = after.committed?.bookmark;
    report.durationMs = clock() - started;
    const lastRun = {
      run: held.lease.run,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(clock()).toISOString(),
      status:
        report.status === 'succeeded' || report.status === 'interrupted'
          ? report.status
          : ('failed' as const),
      records: [...report.streams.values()].reduce((sum, stream) => sum + stream.recordsRead, 0),
      chunks: report.chunksStaged,
      ...(report.error === undefined ? {} : { error: report.error }),
    };
    if (failure === undefined) {
      try {
        await finishRun(held, lastRun, ports);
      } catch (error) {
        report.status = 'failed';
        report.error = (error as Error).message;
      }
    } else {
      await abandonRun(held, lastRun, ports);
    }
  }
  return report;
}

/** A lease holder `host:pid:start` on this host whose process is gone (a killed local run). */
export function localHolderIfDead(holder: string | undefined): string | undefined {
  const [host, pid] = holder?.split(':') ?? [];
  if (holder === undefined || host !== hostname() || pid === undefined || Number(pid) === process.pid)
    return undefined;
  try {
    process.kill(Number(pid), 0);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? holder : undefined;
  }
}

async function streamAndLoad(
  tap: TapConfig,
  held: HeldRun,
  ports: RunPorts,
  queue: InProcessChunkQueue,
  context: TapRunContext,
  report: TapReport,
  load: (message: ChunkMessage) => Promise<ChunkOutcome>,
  leaseLost: () => string | undefined,
): Promise<void> {
  const streamer = streamerOf(tap, context.streamers);
  // Made before anything starts: a step that cannot load fails the run before the source is read.
  // The tap's steps run between the streamer and the chunks, so chunks hold what will be loaded.
  const steps =
    tap.steps.length === 0
      ? undefined
      : await prepareSteps(tap.steps, {
          tap: tap.name,
          run: () => held.lease.run,
          log: context.log ?? (() => {}),
        });
  if (steps !== undefined) report.steps = steps.reports();
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

  const inbox =
    tap.streamer !== 'ingest'
      ? undefined
      : (context.inboxOf?.(tap.name) ??
        (context.stage instanceof FolderStage
          ? folderIngestStore(context.stage.root, tap.name).inbox
          : undefined));
  const source = streamer.run({
    config: tap.config,
    state: held.resume.bookmark,
    ...(inbox === undefined ? {} : { pushedEvents: inbox }),
    ...(tap.streams === undefined ? {} : { selectedStreams: tap.streams }),
    ...(context.log === undefined ? {} : { log: context.log }),
    onTotal: (stream, records) => {
      streamReport(report, stream).expectedRecords = records;
      context.onProgress?.(report);
    },
    onMetrics: (stream, metrics) => {
      const target = streamReport(report, stream);
      target.requests += metrics.requests ?? 0;
      target.retries += metrics.retries ?? 0;
    },
  });
  const messages = steps === undefined ? source : steps.apply(source);
  let streamError: unknown;
  try {
    await stageRun({
      run: held,
      ports,
      messages,
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
      shouldStop: () =>
        loadError !== undefined || leaseLost() !== undefined || context.interrupted?.() === true,
    });
  } catch (error) {
    streamError = error;
  } finally {
    producing = false;
    queue.wake();
    await consumer;
  }
  if (streamError instanceof LeaseLostError) throw streamError;
  const streamsFailed =
    streamError instanceof SourceFailedError && streamError.cause instanceof StreamsFailedError
      ? streamError.cause
      : undefined;
  if (streamsFailed !== undefined) {
    for (const [stream, reason] of streamsFailed.failures) streamReport(report, stream).failure = reason;
    const names = [...streamsFailed.failures.keys()];
    throw new Error(
      `${names.length === 1 ? `stream ${names[0]} failed` : `streams ${names.join(', ')} failed`}. What the other streams read is loaded and their bookmarks committed; the next run retries ${names.length === 1 ? 'it' : 'them'} from ${names.length === 1 ? 'its' : 'their'} own bookmark.`,
      { cause: streamError },
    );
  }
  if (streamError !== undefined) {
    // "streamer X failed: streamer X: …" says the name twice.
    const reason = (streamError as Error).message.replace(new RegExp(`^streamer ${tap.streamer}: `), '');
    throw new Error(`streamer ${tap.streamer} failed: ${reason}. ${afterFailure(report.chunksStaged)}`, {
      cause: streamError,
    });
  }
  if (loadError !== undefined) {
    throw new Error(
      `${loadError.message}\n  The chunk stays in the stage (${ports.stage.description}); fix the cause, then load the waiting chunks with \`trib redrive ${tap.name}\` (or run again).`,
      { cause: loadError },
    );
  }
}
