/**
 * The run protocol, written once (DESIGN.md rules 2, 4, 5, 5a), used by `trib run`, the streamer
 * Lambda and, for the committed side, the persister:
 *
 * - **Lease and fence.** A scheduled event begins a new run only when the tap's lease is free; the
 *   state store numbers the run and hands out a fencing token. A continuation event carries the run and
 *   the token of the invocation that handed it over, and takes the lease only while that token is still
 *   the lease's, with a new token of its own: a repeated, retried or late event is a no-op. Every state
 *   write is conditional on the token; a refused holder stops (LeaseLostError).
 * - **Resume from the store only.** Next seq, predecessor and bookmark come from whichever of `staged`
 *   and `committed` is further along, never from the event.
 * - **Stage, record, send.** A chunk is put in the stage, then recorded as `staged` (fenced), then
 *   sent. A chunk never recorded is never sent or loaded; its records are read again.
 * - **Outbox.** Chunks recorded as staged but not yet committed are sent again at the start of every
 *   invocation and by the sweep, so a failed send delays a tap and never strands it.
 * - **Hand-off.** Near its deadline an invocation stages up to its last STATE, invokes its
 *   continuation with its token, and writes nothing after that.
 */
import { createHash } from 'node:crypto';
import { chunkKey } from '../chunks/chunk-key.ts';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import { type ChunkPosition, comparePositions, formatPosition } from '../chunks/chunk-position.ts';
import type { ClosedChunk } from '../chunks/chunk-writer.ts';
import { newRunId } from '../chunks/run-id.ts';
import { bookmarkSizeProblem } from '../protocol/messages.ts';
import type { ChunkMessage, ChunkQueue } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import {
  isDropped,
  type LastRun,
  type RunLease,
  resumePoint,
  type StateStore,
  type TapState,
} from '../state/state-store.ts';

export interface RunPorts {
  readonly stage: Stage;
  readonly queue: ChunkQueue;
  readonly stateStore: StateStore;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Makes a run id from the run's number. @default newRunId */
  readonly runId?: (runNumber: number) => string;
}

/** What starts an invocation: a schedule (`{tap}`) or a continuation handed over by the last one. */
export interface RunEvent {
  readonly tap: string;
  readonly continuation?: {
    readonly run: string;
    readonly token: number;
    /** Epoch ms before which the continuation should not call the source (a rate limit's reset). */
    readonly notBefore?: number;
  };
  /** Only send chunks waiting in the outbox; start no run. */
  readonly sweep?: boolean;
}

/** Where an invocation starts writing chunks. */
export interface ResumeAt {
  readonly nextSeq: number;
  /** The chunk the next chunk follows: the further of staged and committed, or null for a tap's first. */
  readonly previous: ChunkPosition | null;
  readonly bookmark: unknown;
}

export interface HeldRun {
  readonly tap: string;
  readonly lease: RunLease;
  readonly resume: ResumeAt;
  readonly state: TapState;
}

export type RunStart =
  | { readonly status: 'held'; readonly run: HeldRun }
  | { readonly status: 'skipped'; readonly reason: string; readonly state: TapState };

/** The holder's lease was taken over or released; it must stop and write nothing more. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** A chunk recorded as staged is not in the stage: the chain to the committed chunk is broken. */
export class ChunkChainError extends Error {
  override readonly name = 'ChunkChainError';
}

/** Something the persister would refuse forever (a bookmark over the limit): refused before staging. */
export class UnloadableChunkError extends Error {
  override readonly name = 'UnloadableChunkError';
}

/** How long a Lambda invocation's lease lasts: past the 15-minute limit, so only a dead holder loses it. */
export const LAMBDA_LEASE_TTL_MS = 20 * 60_000;

export interface TakeOptions {
  /** Names the invocation in the lease. */
  readonly holder: string;
  readonly ttlMs: number;
  /** A holder known to be dead (a killed local process) whose lease may be taken before it expires. */
  readonly takeOverFrom?: string;
}

export async function takeRun(event: RunEvent, options: TakeOptions, ports: RunPorts): Promise<RunStart> {
  const { holder, ttlMs } = options;
  const grant =
    event.continuation === undefined
      ? await ports.stateStore.beginRun(event.tap, {
          holder,
          ttlMs,
          runId: ports.runId ?? ((n) => newRunId(n)),
          ...(options.takeOverFrom === undefined ? {} : { takeOverFrom: options.takeOverFrom }),
        })
      : await ports.stateStore.continueRun(event.tap, {
          holder,
          ttlMs,
          run: event.continuation.run,
          token: event.continuation.token,
        });
  if (!grant.ok) return { status: 'skipped', reason: grant.reason, state: grant.state };
  const point = resumePoint(grant.state);
  return {
    status: 'held',
    run: {
      tap: event.tap,
      lease: grant.lease,
      state: grant.state,
      resume: {
        nextSeq: point !== undefined && point.run === grant.lease.run ? point.seq + 1 : 0,
        previous: point === undefined ? null : { run: point.run, seq: point.seq },
        bookmark: point?.bookmark,
      },
    },
  };
}

/**
 * The chunks recorded as staged and not yet committed, oldest first, found by walking back from
 * `staged` along each chunk's predecessor: only chunks a lease holder recorded are on this chain, so
 * an orphan left by a stale or crashed writer is never loaded.
 */
export async function waitingChunks(stage: Stage, state: TapState): Promise<ChunkMessage[]> {
  const { staged, committed } = state;
  const chain: ChunkMessage[] = [];
  let position: ChunkPosition | null = staged ?? null;
  while (position !== null && (committed === undefined || comparePositions(position, committed) > 0)) {
    const key = chunkKey({ tap: state.tap, ...position });
    const metadata = await stage.metadata(key);
    if (metadata === undefined)
      throw new ChunkChainError(
        `tap ${state.tap}: chunk ${formatPosition(position)} is recorded as staged but is not in the stage (${stage.uriOf(key)}). The chunks after the committed bookmark cannot load: \`trib rewind ${state.tap}\` drops them and the next run reads their records again.`,
      );
    chain.push({ ...metadata, key });
    position = metadata.previous;
  }
  return chain.reverse();
}

/** The waiting chain for people to look at: a broken chain is reported, not thrown (status, listings). */
export async function inspectWaiting(
  stage: Stage,
  state: TapState,
): Promise<{ readonly waiting: readonly ChunkMessage[]; readonly broken?: string }> {
  try {
    return { waiting: await waitingChunks(stage, state) };
  } catch (error) {
    if (!(error instanceof ChunkChainError)) throw error;
    return { waiting: [], broken: error.message };
  }
}

/** Whether a staged chunk may be sent or loaded again by hand; refused, it must not load. */
export type ReplayCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * The rule for `trib replay` (and anything else that loads a chunk by hand): only a chunk on the
 * tap's chain may load. After the committed chunk that is the waiting chain; at or behind it, the
 * chain that led to the committed chunk, walked back along each chunk's predecessor. Anything else
 * was left by a writer that lost its lease or crashed before recording it, and its records, read
 * again by a later run, would load twice. A chunk dropped by a rewind, or behind a chunk the stage
 * no longer holds, is left to the load, which knows from the ledger and the state's guards.
 */
export async function checkReplay(stage: Stage, state: TapState, ref: ChunkPosition): Promise<ReplayCheck> {
  const never = (why: string): ReplayCheck => ({
    ok: false,
    reason: `chunk ${formatPosition(ref)} of tap ${state.tap} was never recorded as staged (a writer that lost its lease, or a crash before recording it): ${why}`,
  });
  if (state.committed !== undefined && comparePositions(ref, state.committed) <= 0) {
    const walk = await committedChain(
      (position) => stage.metadata(chunkKey({ tap: state.tap, ...position })),
      state.committed,
      ref,
    );
    // Behind a chunk the stage no longer holds the walk cannot tell: the load's ledger decides.
    const onChain = walk.unseen || (walk.end !== null && comparePositions(walk.end, ref) === 0);
    return onChain
      ? { ok: true }
      : never(
          `a later run read its records again (the tap is committed through ${formatPosition(state.committed)}), so it is not loaded. Nothing to do.`,
        );
  }
  if (isDropped(state, ref)) return { ok: true };
  const chain = await waitingChunks(stage, state);
  if (chain.some((chunk) => chunk.run === ref.run && chunk.seq === ref.seq)) return { ok: true };
  return never(
    `its records are read again by the tap's next run, so it is not loaded. Nothing to do; the tap's chain continues from ${state.staged === undefined ? 'its first chunk' : formatPosition(state.staged)}.`,
  );
}

/** Where a walk of the committed chain went: the chunks it passed, and where it stopped. */
export interface CommittedChainWalk {
  /** The chunks on the chain, newest first, from the committed one back to (not including) `end`. */
  readonly chain: readonly ChunkPosition[];
  /** At or behind the floor, null past the tap's first chunk, or the first chunk the stage no longer holds. */
  readonly end: ChunkPosition | null;
  /** Whether the walk stopped at a chunk the stage no longer holds (expired): behind it, it cannot tell. */
  readonly unseen: boolean;
}

/**
 * The chain that led to the committed chunk, walked back along each chunk's predecessor while it is
 * after `floor` (null: to the tap's first chunk). A chunk at or behind the committed one is on the
 * tap's chain only if this walk passes it; any other is an orphan (`trib replay`, `trib chunks`).
 */
export async function committedChain(
  metadataOf: (position: ChunkPosition) => Promise<ChunkMetadata | undefined>,
  committed: ChunkPosition,
  floor: ChunkPosition | null,
): Promise<CommittedChainWalk> {
  const chain: ChunkPosition[] = [];
  let position: ChunkPosition | null = committed;
  while (position !== null && (floor === null || comparePositions(position, floor) > 0)) {
    const metadata = await metadataOf(position);
    if (metadata === undefined) return { chain, end: position, unseen: true };
    chain.push(position);
    position = metadata.previous;
  }
  return { chain, end: position, unseen: false };
}

/** The outbox: sends the waiting chunks again (the persister's ledger drops what it already loaded). */
export async function resendWaiting(state: TapState, ports: RunPorts, limit = 50): Promise<number> {
  const waiting = (await waitingChunks(ports.stage, state)).slice(0, limit);
  for (const message of waiting) await ports.queue.send(message);
  return waiting.length;
}

/**
 * The chunk writer's sink for a held run: refuse what can never load, put, record as staged (fenced),
 * send. Each chunk names the one before it as its predecessor.
 */
export function stageChunks(
  run: HeldRun,
  ports: RunPorts,
  onStaged?: (chunk: ClosedChunk, metadata: ChunkMetadata) => void,
): (chunk: ClosedChunk) => Promise<void> {
  let previous = run.resume.previous;
  return async (chunk) => {
    const unloadable = bookmarkSizeProblem(chunk.bookmark);
    if (unloadable !== undefined)
      throw new UnloadableChunkError(
        `tap ${run.tap}: chunk ${chunk.seq} of run ${run.lease.run} was not staged: ${unloadable}`,
      );
    const metadata: ChunkMetadata = {
      tap: run.tap,
      run: run.lease.run,
      seq: chunk.seq,
      records: chunk.records,
      streams: [...chunk.recordsByStream.keys()],
      previous,
      sha256: createHash('sha256').update(chunk.gzipBody).digest('hex'),
      bytes: chunk.gzipBody.length,
    };
    const key = chunkKey(metadata);
    await ports.stage.put(key, chunk.gzipBody, metadata);
    const recorded = await ports.stateStore.markStaged(run.tap, run.lease.token, {
      run: run.lease.run,
      seq: chunk.seq,
      bookmark: chunk.bookmark,
      at: new Date((ports.clock ?? Date.now)()).toISOString(),
    });
    if (!recorded.ok)
      throw new LeaseLostError(`chunk ${formatPosition(metadata)} was not recorded: ${recorded.reason}`);
    previous = { run: run.lease.run, seq: chunk.seq };
    await ports.queue.send({ ...metadata, key });
    onStaged?.(chunk, metadata);
  };
}

/** Ends a held run: records it and frees the lease, both only while the token still holds. */
export async function finishRun(run: HeldRun, lastRun: LastRun, ports: RunPorts): Promise<void> {
  const recorded = await ports.stateStore.recordLastRun(run.tap, lastRun, run.lease.token);
  const released = await ports.stateStore.releaseLease(run.tap, run.lease.token);
  if (!recorded.ok || !released.ok)
    throw new LeaseLostError(
      `run ${run.lease.run} of tap ${run.tap} lost its lease: ${recorded.ok ? '' : recorded.reason}${released.ok ? '' : released.reason}`,
    );
}

/** Ends a failed run without throwing again: what it staged stays; the next run resumes after it. */
export async function abandonRun(run: HeldRun, lastRun: LastRun, ports: RunPorts): Promise<void> {
  await ports.stateStore.recordLastRun(run.tap, lastRun, run.lease.token).catch(() => undefined);
  await ports.stateStore.releaseLease(run.tap, run.lease.token).catch(() => undefined);
}

/** The event a continuation runs with: this run, and the token it may take over from. */
export function continuationOf(run: HeldRun, notBefore?: number): RunEvent {
  return {
    tap: run.tap,
    continuation: {
      run: run.lease.run,
      token: run.lease.token,
      ...(notBefore === undefined ? {} : { notBefore }),
    },
  };
}

/**
 * Keeps a long local run's lease alive. The renewal's result is checked: once refused (another run
 * took an expired lease), `lost()` says why and the run stops at its next chunk.
 */
export function keepLease(
  run: HeldRun,
  ttlMs: number,
  ports: RunPorts,
): { lost(): string | undefined; stop(): Promise<void> } {
  let lost: string | undefined;
  let pending: Promise<void> = Promise.resolve();
  const renew = () => {
    pending = pending.then(async () => {
      if (lost !== undefined) return;
      try {
        const renewed = await ports.stateStore.renewLease(run.tap, run.lease.token, ttlMs);
        if (!renewed.ok) lost = renewed.reason;
      } catch {
        // A store that cannot be reached does not end the run; the next fenced write decides.
      }
    });
  };
  const timer = setInterval(renew, Math.max(50, ttlMs / 3));
  return {
    lost: () => lost,
    stop: async () => {
      clearInterval(timer);
      await pending;
    },
  };
}
