/**
 * One invocation of the streamer in a serverless runtime. A scheduled event `{tap}` begins a run;
 * near the time budget the run stages what it has up to the last STATE and hands the rest to a new
 * invocation `{tap, continuation: {run, token}}`. A `{tap, sweep: true}` event only sends waiting
 * chunks again. The lease, fence, resume and outbox rules are run-protocol.ts's; this file adapts
 * them to Lambda's clock and self-invocation.
 */

import { randomBytes } from 'node:crypto';
import type { ChunkLimits } from '../chunks/chunk-writer.ts';
import type { EventInbox } from '../ingest/event-inbox.ts';
import type { ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import type { StateStore } from '../state/state-store.ts';
import { prepareSteps } from '../steps/run-steps.ts';
import type { Streamer } from '../streamer/streamer.ts';
import type { TokenStore } from '../streamer/token-store.ts';
import { afterFailure } from './after-failure.ts';
import { chunkLimitsOf, type PipelineConfig } from './pipeline-config.ts';
import {
  abandonRun,
  continuationOf,
  finishRun,
  type HeldRun,
  LAMBDA_LEASE_TTL_MS,
  type RunEvent,
  type RunPorts,
  resendWaiting,
  takeRun,
} from './run-protocol.ts';
import { stageRun } from './stage-run.ts';
import { streamerOf } from './streamer-of.ts';

export type StreamerEvent = RunEvent;

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
  /** Names this invocation in the lease (Lambda's request id). @default random */
  readonly invocationId?: string;
  /** Kept free at the end for staging the last chunk and handing off. @default 60 s */
  readonly marginMs?: number;
  readonly limits?: ChunkLimits;
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly runId?: (runNumber: number) => string;
  /** Finds a streamer by name. @default the built-in streamers */
  readonly streamers?: (name: string) => Streamer;
  /** Secrets the streamer may rewrite (rotated OAuth tokens); Secrets Manager in AWS. */
  readonly secretStore?: (name: string) => TokenStore;
  /** An ingest tap's inbox (S3 in AWS), for the `ingest` streamer. */
  readonly inboxOf?: (tap: string) => EventInbox;
  readonly log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface InvocationResult {
  readonly status: 'finished' | 'continued' | 'skipped' | 'swept';
  readonly tap: string;
  readonly run?: string;
  readonly records: number;
  readonly chunks: number;
  /** Chunks sent again from the outbox. */
  readonly resent: number;
  readonly reason?: string;
}

export class TapRunError extends Error {
  override readonly name = 'TapRunError';
}

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
  const clock = deps.clock ?? Date.now;
  const ports: RunPorts = {
    stage: deps.stage,
    queue: deps.queue,
    stateStore: deps.stateStore,
    clock,
    ...(deps.runId === undefined ? {} : { runId: deps.runId }),
  };
  const log = (line: string, fields: Record<string, unknown> = {}) =>
    deps.log?.(line, { tap: tap.name, ...fields });
  if (event.sweep === true) {
    const resent = await resendWaiting(await deps.stateStore.read(tap.name), ports);
    if (resent > 0) log(`tap ${tap.name}: sent ${resent} waiting chunk(s) again`, { resent });
    return { status: 'swept', tap: tap.name, records: 0, chunks: 0, resent };
  }
  const holder = deps.invocationId ?? randomBytes(8).toString('hex');
  const start = await takeRun(event, { holder, ttlMs: LAMBDA_LEASE_TTL_MS }, ports);
  if (start.status === 'skipped') {
    log(`tap ${tap.name}: ${start.reason}; this event does nothing`);
    return { status: 'skipped', tap: tap.name, records: 0, chunks: 0, resent: 0, reason: start.reason };
  }
  const held = start.run;
  const run = held.lease.run;
  const started = new Date(clock()).toISOString();
  const marginMs = deps.marginMs ?? 60_000;
  const deadline = clock() + deps.remainingMs() - marginMs;
  let records = 0;
  let chunks = 0;
  let resent = 0;
  const handOff = async (notBefore?: number) => {
    await deps.invoker.continueWith(continuationOf(held, notBefore));
    log(
      `tap ${tap.name}: run ${run} continues in a new invocation from chunk ${held.resume.nextSeq + chunks}`,
      {
        run,
        ...(notBefore === undefined ? {} : { notBefore: new Date(notBefore).toISOString() }),
      },
    );
    return { status: 'continued' as const, tap: tap.name, run, records, chunks, resent };
  };
  try {
    resent = await resendWaiting(held.state, ports);
    // A rate-limited run resumes at the reset, waiting here as long as this invocation can afford.
    const notBefore = event.continuation?.notBefore;
    if (notBefore !== undefined && notBefore > clock()) {
      await (deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(
        Math.max(0, Math.min(notBefore - clock(), deadline - clock())),
      );
      if (notBefore > clock()) return await handOff(notBefore);
    }
    let stop: { resumeAt?: number } | undefined;
    // The same steps as `trib run`, between the streamer and the chunks.
    const steps =
      tap.steps.length === 0
        ? undefined
        : await prepareSteps(tap.steps, { tap: tap.name, run: () => run, log: (line) => log(line, { run }) });
    const source = streamerOf(tap, deps.streamers).run({
      config: tap.config,
      state: held.resume.bookmark,
      deadline,
      onDeadline: (info) => {
        stop = info;
      },
      ...(tap.streams === undefined ? {} : { selectedStreams: tap.streams }),
      ...(deps.secretStore === undefined ? {} : { secretStore: deps.secretStore }),
      ...(tap.streamer === 'ingest' && deps.inboxOf !== undefined
        ? { pushedEvents: deps.inboxOf(tap.name) }
        : {}),
      log: (line) => log(line, { run }),
    });
    const result = await stageRun({
      run: held,
      ports,
      messages: steps === undefined ? source : steps.apply(source),
      limits: { ...chunkLimitsOf(tap), ...deps.limits },
      onRecord: () => {
        records += 1;
      },
      onChunk: (_chunk, metadata) => {
        chunks += 1;
        log(`staged chunk ${metadata.seq} of run ${run}: ${metadata.records} records`, {
          run,
          seq: metadata.seq,
        });
      },
      // The streamer stops itself at the deadline; this later cut-off only guards against one that does not.
      shouldStop: () => clock() >= deadline + marginMs / 2,
    });
    // The step figures as log fields, for the dashboard to chart (records in, out, dropped, time).
    if (steps !== undefined) log('steps', { run, steps: steps.reports() });
    if (stop !== undefined || result.stopped) return await handOff(stop?.resumeAt);
    await finishRun(held, lastRunOf(held, started, clock, 'succeeded', records, chunks), ports);
    return { status: 'finished', tap: tap.name, run, records, chunks, resent };
  } catch (error) {
    // The run's chunks, those of earlier invocations of it included: they are kept too.
    const message = `tap ${tap.name}, run ${run}: ${(error as Error).message}. ${afterFailure(held.resume.nextSeq + chunks)}`;
    await abandonRun(held, lastRunOf(held, started, clock, 'failed', records, chunks, message), ports);
    throw new TapRunError(message, { cause: error });
  }
}

function lastRunOf(
  held: HeldRun,
  startedAt: string,
  clock: () => number,
  status: 'succeeded' | 'failed',
  records: number,
  chunks: number,
  error?: string,
) {
  return {
    run: held.lease.run,
    startedAt,
    finishedAt: new Date(clock()).toISOString(),
    status,
    records,
    chunks,
    ...(error === undefined ? {} : { error }),
  };
}
