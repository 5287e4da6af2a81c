/**
 * A simulated deployment for the property-based exactly-once test: the real run protocol, streamer
 * invocation and persister code, over ports that behave as AWS does when it misbehaves:
 * - Lambda's async queue delivers a continuation once, twice, late, or never; a failed invocation is
 *   retried with the same event (twice at most);
 * - SQS FIFO delivers at least once, in order per tap, drops a resend with the same deduplication id
 *   within five minutes, returns failed messages and dead-letters them after five receives;
 * - the stage, state store, queue, destination and self-invoker can each fail their k-th call;
 * - a fake clock drives deadlines and lease expiry.
 * The source is an append-only change log of a keyed stream (`items`, updated in place) and an
 * unkeyed one (`events`), read by a streamer that checkpoints after every page.
 */

import { type ChunkPosition, comparePositions } from '../../lib/chunks/chunk-position.ts';
import { readChunk } from '../../lib/chunks/read-chunk.ts';
import { loadChunks } from '../../lib/persister/load-chunks.ts';
import { persistBatch } from '../../lib/persister/persist-queue-batch.ts';
import type { PipelineConfig } from '../../lib/pipeline/pipeline-config.ts';
import { clearDeadLetters, redriveTap } from '../../lib/pipeline/redrive.ts';
import { rewindTap } from '../../lib/pipeline/rewind.ts';
import { checkReplay, type RunEvent } from '../../lib/pipeline/run-protocol.ts';
import { runStreamerInvocation } from '../../lib/pipeline/streamer-invocation.ts';
import type { Message } from '../../lib/protocol/messages.ts';
import type { ChunkMessage } from '../../lib/queue/chunk-queue.ts';
import type { Stage } from '../../lib/stage/stage.ts';
import { MemoryStateStore } from '../../lib/state/memory-state-store.ts';
import { isDropped, type StateStore } from '../../lib/state/state-store.ts';
import type { StepConfig } from '../../lib/steps/step-config.ts';
import type { Streamer, StreamerRunOptions } from '../../lib/streamer/streamer.ts';
import { FaultyDestination, InjectedFault } from '../../lib/testing/faulty-destination.ts';
import { FaultyStage } from '../../lib/testing/faulty-stage.ts';
import { FaultyStateStore, type StateStoreMethod } from '../../lib/testing/faulty-state-store.ts';
import { MemoryDestination } from '../../lib/testing/memory-destination.ts';
import { MemoryStage } from '../../lib/testing/memory-stage.ts';
import { type QueueModel, SimulatedSqs } from './queue-model.ts';

export const TAP = 'prop';
const MINUTE = 60_000;

/** One step of a schedule; fast-check generates lists of these. */
export type Step =
  | { readonly kind: 'schedule'; readonly budgetMs: number }
  | {
      readonly kind: 'continue';
      readonly pick: number;
      readonly budgetMs: number;
      readonly duplicate: boolean;
    }
  | { readonly kind: 'retry'; readonly pick: number; readonly budgetMs: number }
  | { readonly kind: 'persist'; readonly batch: number }
  | { readonly kind: 'redeliver'; readonly pick: number }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'grow'; readonly inserts: number; readonly updates: number; readonly events: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'fault'; readonly fault: Fault; readonly nth: number }
  | { readonly kind: 'replay'; readonly pick: number }
  | { readonly kind: 'redrive' }
  /** `trib rewind` (locally, with the destination's ledger at hand): what waits is dropped and read again. */
  | { readonly kind: 'rewind' }
  /** Two deliveries at once (a duplicate continuation, or a schedule beside a continuation), interleaved. */
  | {
      readonly kind: 'concurrent';
      readonly pick: number;
      readonly budgetMs: number;
      readonly withSchedule: boolean;
    };

export type Fault =
  | { readonly port: 'state'; readonly method: StateStoreMethod }
  | { readonly port: 'stage-put' }
  | { readonly port: 'queue-send' }
  | { readonly port: 'invoke' }
  | { readonly port: 'destination'; readonly at: 'mid-load' | 'before-commit' | 'after-commit' }
  /** Every load fails for a while, long enough to dead-letter a chunk and its successors. */
  | { readonly port: 'destination-outage'; readonly transactions: number };

interface Change {
  readonly stream: 'items' | 'events';
  readonly record: { id: number; version: number };
}

export class World {
  now = 1_767_225_600_000; // 2026-01-01
  readonly clock = () => this.now;
  readonly changes: Change[] = [];
  private nextItem = 0;
  private nextEvent = 0;
  readonly memoryStage = new MemoryStage();
  readonly stage: FaultyStage;
  readonly memoryDestination = new MemoryDestination();
  readonly destination: FaultyDestination;
  readonly state: FaultyStateStore;
  /** The store behind the faults, for the checks (which must not fail themselves). */
  readonly truth: StateStore;
  readonly queue: QueueModel;
  /** Continuations handed to Lambda and not yet delivered. */
  readonly continuations: RunEvent[] = [];
  /** Events whose invocation failed, with how often Lambda has retried them. */
  readonly failed: { event: RunEvent; retries: number }[] = [];
  private failInvokes = new Set<number>();
  private invokes = 0;
  readonly log: string[] = [];
  private readonly pipeline: PipelineConfig;
  private readonly streamer: Streamer;
  /** Whether the tap runs steps (then every loaded row carries `via: 'steps'`). */
  readonly stepped: boolean;

  /** The stage behind the faults (for replays and checks). */
  readonly baseStage: Stage;

  constructor(
    options: {
      stage?: Stage;
      stateStore?: (clock: () => number) => StateStore;
      queue?: (clock: () => number) => QueueModel;
      /** Steps between the streamer and the chunks (each loaded row then carries `via: 'steps'`). */
      steps?: readonly StepConfig[];
    } = {},
  ) {
    this.baseStage = options.stage ?? this.memoryStage;
    this.stage = new FaultyStage(this.baseStage);
    this.destination = new FaultyDestination(this.memoryDestination);
    this.truth = options.stateStore?.(this.clock) ?? new MemoryStateStore(this.clock);
    this.state = new FaultyStateStore(this.truth);
    this.queue = options.queue?.(this.clock) ?? new SimulatedSqs(this.clock);
    this.pipeline = {
      file: 'property.yaml',
      destination: { type: 'duckdb', path: 'memory' },
      stagePath: '',
      statePath: '',
      taps: new Map([
        [
          TAP,
          {
            name: TAP,
            streamer: 'changes',
            config: {},
            steps: options.steps ?? [],
            chunk: { max_records: 4 },
          },
        ],
      ]),
    };
    this.streamer = changeLogStreamer(this);
    this.stepped = (options.steps ?? []).length > 0;
  }

  grow(inserts: number, updates: number, events: number): void {
    for (let i = 0; i < inserts; i += 1)
      this.changes.push({ stream: 'items', record: { id: this.nextItem++, version: 0 } });
    for (let i = 0; i < updates && this.nextItem > 0; i += 1) {
      const id = (this.changes.length * 7 + i) % this.nextItem;
      const latest = this.latestItems().get(id)?.version ?? 0;
      this.changes.push({ stream: 'items', record: { id, version: latest + 1 } });
    }
    for (let i = 0; i < events; i += 1)
      this.changes.push({ stream: 'events', record: { id: this.nextEvent++, version: 0 } });
  }

  latestItems(upTo = this.changes.length): Map<number, { id: number; version: number }> {
    const items = new Map<number, { id: number; version: number }>();
    for (const change of this.changes.slice(0, upTo))
      if (change.stream === 'items') items.set(change.record.id, change.record);
    return items;
  }

  eventsUpTo(upTo = this.changes.length): number[] {
    return this.changes
      .slice(0, upTo)
      .filter((change) => change.stream === 'events')
      .map((change) => change.record.id);
  }

  async invoke(event: RunEvent, budgetMs: number): Promise<void> {
    try {
      const result = await runStreamerInvocation(event, {
        pipeline: this.pipeline,
        stage: this.stage,
        queue: this.queue,
        stateStore: this.state,
        invoker: {
          continueWith: async (next) => {
            this.invokes += 1;
            if (this.failInvokes.delete(this.invokes))
              throw new InjectedFault('injected fault: Lambda Invoke failed');
            this.continuations.push(structuredClone(next));
          },
        },
        remainingMs: () => budgetMs,
        marginMs: 0,
        clock: this.clock,
        sleep: async (ms) => {
          this.now += ms;
        },
        streamers: () => this.streamer,
      });
      this.log.push(
        `invoke ${JSON.stringify(event)} → ${result.status}${result.reason === undefined ? '' : ` (${result.reason})`}`,
      );
    } catch (error) {
      this.log.push(`invoke ${JSON.stringify(event)} → failed: ${(error as Error).message.slice(0, 160)}`);
      this.failed.push({ event, retries: 0 });
    }
  }

  /** Lambda's SQS event source: one batch of the tap's group, in order, partial failures returned. */
  async persist(batchSize: number): Promise<void> {
    await this.queue.deliver(batchSize, async (messages) => {
      const result = await persistBatch(messages, {
        stage: this.stage,
        destination: this.destination,
        stateStore: this.state,
        parse: (body) => JSON.parse(body) as ChunkMessage,
      });
      const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
      this.log.push(`persist ${messages.length}: ${failed.size} failed`);
      return failed;
    });
  }

  /** At-least-once: a message already handled is delivered again. */
  async redeliver(pick: number): Promise<void> {
    await this.queue.redeliver(pick);
  }

  /** `trib redrive`: the tap's chain sent again in order, then its dead letters removed. */
  async redrive(): Promise<void> {
    try {
      const sent = await redriveTap(TAP, { stage: this.stage, stateStore: this.state }, (chunk) =>
        this.queue.replay(chunk),
      );
      const cleared = await clearDeadLetters(TAP, this.queue.deadLetterQueue());
      this.log.push(`redrive: sent ${sent.length}, cleared ${cleared} dead letter(s)`);
    } catch (error) {
      this.log.push(`redrive → failed: ${(error as Error).message.slice(0, 160)}`);
    }
  }

  /** `trib rewind`: refused while a run holds the lease; otherwise the waiting chunks are dropped. */
  async rewind(): Promise<void> {
    try {
      const plan = await rewindTap(
        TAP,
        { stage: this.stage, stateStore: this.state, destination: this.destination },
        false,
        { clock: this.clock, by: 'property rewind' },
      );
      this.log.push(
        `rewind: dropped ${plan.dropped.length}${plan.loadedAfterCommitted === undefined ? '' : `, committed caught up to ${plan.loadedAfterCommitted}`}`,
      );
    } catch (error) {
      this.log.push(`rewind → failed: ${(error as Error).message.slice(0, 160)}`);
    }
  }

  /** `trib replay` of a staged chunk: refused for orphans; a loaded one loads nothing. */
  async replay(pick: number): Promise<void> {
    const keys = await this.baseStage.list(`stage/${TAP}/`);
    const key = keys[pick % Math.max(1, keys.length)];
    if (key === undefined) return;
    const metadata = await this.baseStage.metadata(key);
    if (metadata === undefined) return;
    // The rule `trib replay` applies, from the run protocol; the load applies the rest.
    const check = await checkReplay(this.baseStage, await this.truth.read(TAP), metadata);
    if (!check.ok) {
      this.log.push(`replay ${key}: refused, an orphan`);
      return;
    }
    try {
      const [outcome] = await loadChunks(
        TAP,
        [{ ...metadata, source: key, messages: () => readChunk(this.baseStage, key) }],
        { destination: this.destination, stateStore: this.state },
      );
      this.log.push(
        `replay ${key}: ${outcome?.status === 'orphaned' ? 'refused, an orphan' : outcome?.status}`,
      );
    } catch (error) {
      this.log.push(`replay ${key}: ${(error as Error).message.slice(0, 100)}`);
    }
  }

  arm(fault: Fault, nth: number): void {
    switch (fault.port) {
      case 'state':
        this.state.failCall(fault.method, nth);
        break;
      case 'stage-put':
        this.stage.failNextPuts(1, nth - 1);
        break;
      case 'queue-send':
        this.queue.armSend(nth);
        break;
      case 'invoke':
        this.failInvokes.add(this.invokes + nth);
        break;
      case 'destination':
        this.destination.failNext(fault.at, nth);
        break;
      case 'destination-outage':
        this.destination.failFor(fault.transactions);
        break;
    }
  }

  /** Stops the faults; a destination outage under way runs its course (it ends by itself). */
  disarm(): void {
    this.state.disarm();
    this.stage.failNextPuts(0);
    this.queue.disarmSends();
    this.failInvokes.clear();
    this.destination.disarm(false);
  }

  async step(step: Step): Promise<void> {
    switch (step.kind) {
      case 'schedule':
        return this.invoke({ tap: TAP }, step.budgetMs);
      case 'continue': {
        if (this.continuations.length === 0) return;
        const index = step.pick % this.continuations.length;
        const event = this.continuations[index] as RunEvent;
        if (!step.duplicate) this.continuations.splice(index, 1);
        return this.invoke(event, step.budgetMs);
      }
      case 'retry': {
        const retryable = this.failed.filter((entry) => entry.retries < 2);
        const entry = retryable[step.pick % Math.max(1, retryable.length)];
        if (entry === undefined) return;
        entry.retries += 1;
        return this.invoke(entry.event, step.budgetMs);
      }
      case 'persist':
        return this.persist(step.batch);
      case 'redeliver':
        return this.redeliver(step.pick);
      case 'sweep':
        return this.invoke({ tap: TAP, sweep: true }, 60_000);
      case 'grow':
        this.grow(step.inserts, step.updates, step.events);
        return;
      case 'advance':
        this.now += step.ms;
        return;
      case 'fault':
        this.arm(step.fault, step.nth);
        return;
      case 'replay':
        return this.replay(step.pick);
      case 'redrive':
        return this.redrive();
      case 'rewind':
        return this.rewind();
      case 'concurrent': {
        const continuation = this.continuations[step.pick % Math.max(1, this.continuations.length)];
        if (continuation === undefined) return;
        this.continuations.splice(this.continuations.indexOf(continuation), 1);
        const other = step.withSchedule ? { tap: TAP } : continuation;
        // The source changes between the two starts, so two writers of one run would write different chunks.
        await Promise.all([
          this.invoke(continuation, step.budgetMs),
          (async () => {
            await new Promise((resolve) => setImmediate(resolve));
            this.grow(1, 1, 2);
            await this.invoke(other, step.budgetMs);
          })(),
        ]);
        return;
      }
    }
  }

  /** After the faults stop: what a healthy system does with time (deliveries, retries, schedules). */
  async settle(): Promise<void> {
    this.disarm();
    for (let round = 0; round < 60; round += 1) {
      for (const event of this.continuations.splice(0)) await this.invoke(event, 5_000);
      if ((await this.queue.counts()).deadLetters > 0) await this.redrive();
      for (let i = 0; i < 200 && (await this.queue.counts()).waiting > 0; i += 1) await this.persist(10);
      const state = await this.truth.read(TAP);
      const left = await this.queue.counts();
      // Dead letters of chunks loaded another way still fire the alarm: the operator redrives them.
      const done =
        this.continuations.length === 0 &&
        left.waiting === 0 &&
        left.deadLetters === 0 &&
        cursorOf(state.committed?.bookmark) === this.changes.length &&
        (state.lease === undefined || state.lease.expiresAt <= this.now);
      if (done) return;
      this.now += 21 * MINUTE; // leases of dead holders expire; the next schedule comes
      await this.invoke({ tap: TAP, sweep: true }, 60_000);
      await this.invoke({ tap: TAP }, 5_000);
    }
  }
}

export function cursorOf(bookmark: unknown): number {
  return typeof bookmark === 'object' &&
    bookmark !== null &&
    typeof (bookmark as { cursor?: unknown }).cursor === 'number'
    ? ((bookmark as { cursor: number }).cursor as number)
    : 0;
}

/** Reads the change log from the bookmark's cursor, a STATE after every page, stopping at the deadline. */
function changeLogStreamer(world: World): Streamer {
  const schema = { type: 'object', properties: { id: { type: 'integer' }, version: { type: 'integer' } } };
  return {
    name: 'changes',
    description: 'the change log of the property test',
    configSchema: { type: 'object' },
    streams: [],
    async *run(options: StreamerRunOptions): AsyncGenerator<Message> {
      yield { type: 'SCHEMA', stream: 'items', schema, keyProperties: ['id'] };
      yield { type: 'SCHEMA', stream: 'events', schema, keyProperties: [] };
      let cursor = cursorOf(options.state);
      const end = world.changes.length;
      const page = 3;
      while (cursor < end) {
        for (const change of world.changes.slice(cursor, Math.min(end, cursor + page))) {
          world.now += 1;
          // Lets a concurrent invocation run between records, as two Lambdas would.
          await new Promise((resolve) => setImmediate(resolve));
          yield { type: 'RECORD', stream: change.stream, record: { ...change.record } };
        }
        cursor = Math.min(end, cursor + page);
        yield { type: 'STATE', value: { cursor } };
        if (options.deadline !== undefined && world.now >= options.deadline && cursor < end) {
          options.onDeadline?.({});
          return;
        }
      }
      yield { type: 'STATE', value: { cursor } };
    },
  };
}

/** What a correct system must show after any step (safety), as failure messages. */
export async function safetyProblems(
  world: World,
  seen: { committed?: ChunkPosition; staged?: ChunkPosition },
): Promise<string[]> {
  const problems: string[] = [];
  const state = await world.truth.read(TAP);
  for (const field of ['committed', 'staged'] as const) {
    const now = state[field];
    const before = seen[field];
    // A rewind moves `staged` back, and only by dropping the chunks it passes over.
    const rewound = field === 'staged' && before !== undefined && isDropped(state, before);
    if (before !== undefined && !rewound && (now === undefined || comparePositions(now, before) < 0))
      problems.push(
        `${field} moved backwards: ${before.run}/${before.seq} → ${now === undefined ? 'none' : `${now.run}/${now.seq}`}`,
      );
    if (now !== undefined) seen[field] = { run: now.run, seq: now.seq };
  }
  const events = world.memoryDestination.rows(TAP, 'events').map((row) => Number(row.id));
  const counts = new Map<number, number>();
  for (const id of events) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) if (count > 1) problems.push(`event ${id} loaded ${count} times`);
  const cursor = cursorOf(state.committed?.bookmark);
  for (const id of world.eventsUpTo(cursor))
    if (!counts.has(id))
      problems.push(`event ${id} is below the committed bookmark (cursor ${cursor}) but not loaded`);
  const items = new Map(
    world.memoryDestination.rows(TAP, 'items').map((row) => [Number(row.id), Number(row.version)]),
  );
  for (const [id, record] of world.latestItems(cursor)) {
    const loaded = items.get(id);
    if (loaded === undefined || loaded < record.version)
      problems.push(
        `item ${id} v${record.version} is below the committed bookmark but the table has ${loaded === undefined ? 'nothing' : `v${loaded}`}`,
      );
  }
  return problems;
}

/** After settling (liveness): everything loaded once, at its latest version, and nothing stuck. */
export async function finalProblems(world: World): Promise<string[]> {
  const problems: string[] = [];
  const state = await world.truth.read(TAP);
  if (cursorOf(state.committed?.bookmark) !== world.changes.length)
    problems.push(
      `stuck: committed cursor ${cursorOf(state.committed?.bookmark)} of ${world.changes.length} changes`,
    );
  const items = world.memoryDestination
    .rows(TAP, 'items')
    .map((row) => `${row.id}:${row.version}`)
    .sort();
  const expected = [...world.latestItems().values()].map((item) => `${item.id}:${item.version}`).sort();
  if (JSON.stringify(items) !== JSON.stringify(expected))
    problems.push(`items table ${JSON.stringify(items)} ≠ source ${JSON.stringify(expected)}`);
  const events = world.memoryDestination
    .rows(TAP, 'events')
    .map((row) => Number(row.id))
    .sort((a, b) => a - b);
  const all = world.eventsUpTo().sort((a, b) => a - b);
  if (JSON.stringify(events) !== JSON.stringify(all))
    problems.push(`events table ${JSON.stringify(events)} ≠ source ${JSON.stringify(all)}`);
  const unstepped = [
    ...world.memoryDestination.rows(TAP, 'items'),
    ...world.memoryDestination.rows(TAP, 'events'),
  ].filter((row) => world.stepped && row.via !== 'steps');
  if (unstepped.length > 0) problems.push(`${unstepped.length} rows loaded without passing the steps`);
  const left = await world.queue.counts();
  if (left.waiting > 0 || left.deadLetters > 0)
    problems.push(`messages left: ${left.waiting} in the queue, ${left.deadLetters} dead-lettered`);
  return problems;
}
