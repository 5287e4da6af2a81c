/**
 * The push client: ISStreamer's `Streamer`, in TypeScript, that loses nothing. `log()` validates and
 * queues and returns at once; one background loop ships batches in order. When the endpoint stays
 * unreachable, batches go to a durable spool on disk and are resubmitted when it answers again and at
 * the next start; past `maxQueue` queued events the oldest are spooled, not dropped. Every event has a
 * UUID v7 from `log()`, so a batch sent twice (a lost response, a resubmitted spool) loads once.
 *
 * @example
 * const events = new EventStreamer({ endpoint: 'http://127.0.0.1:8080', accessKey, bucketKey: 'freezer' });
 * events.log('temperature_c', -19.4);
 * events.logObject({ door: 'closed', alarm: false }, { keyPrefix: 'lab' });
 * const { sent, spooled, dropped } = await events.close();
 */
import { uuidv7 } from './event-id.ts';
import {
  bucketKeyProblem,
  bucketNameProblem,
  type EventValue,
  epochProblem,
  eventKeyProblem,
  eventValueProblem,
  MAX_BODY_BYTES,
} from './event-rules.ts';
import { EventSpool } from './event-spool.ts';
import { flushOnExit } from './exit-flush.ts';
import { flattenObject } from './flatten-object.ts';
import { PushSender, type SendOutcome } from './push-sender.ts';
import type { PushedEvent } from './pushed-event.ts';

export type PushLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface EventStreamerOptions {
  /** The endpoint's base URL (ISStreamer's `stream_api_base`), e.g. `http://127.0.0.1:8080`. */
  readonly endpoint: string;
  readonly accessKey: string;
  /** @default a UUID */
  readonly bucketKey?: string;
  /** @default the bucket key */
  readonly bucketName?: string;
  /** Ship once this many events are queued. @default 10 */
  readonly bufferSize?: number;
  /** Ship what is queued at least this often. @default 1000 ms */
  readonly flushIntervalMs?: number;
  /** Events held in memory; past it the oldest are spooled to disk. @default 10000 */
  readonly maxQueue?: number;
  /** Most events in one request (also kept under the 1 MB body limit). @default 500 */
  readonly maxBatch?: number;
  /** Where unsent batches wait. @default `.tributary/push-spool` */
  readonly spoolDir?: string;
  /** @default warn */
  readonly logLevel?: PushLogLevel;
  /** Where log lines go. @default stderr */
  readonly logger?: (level: Exclude<PushLogLevel, 'silent'>, line: string) => void;
  /** Flush on `beforeExit`, close on SIGINT/SIGTERM. @default true */
  readonly handleExit?: boolean;
  /** How long `close()` may take before it spools what is left. @default 10000 ms */
  readonly closeTimeoutMs?: number;
  /** First wait before trying an unreachable endpoint again; doubles up to a minute. @default 1000 ms */
  readonly reconnectDelayMs?: number;
  /** Attempts per request before a batch is spooled. @default 3 */
  readonly attempts?: number;
  readonly backoffBaseMs?: number;
  readonly fetch?: typeof fetch;
}

/** What a client did over its life, as `close()` reports it. */
export interface PushTotals {
  /** Events the endpoint accepted (including resubmitted ones). */
  sent: number;
  /** Events written to the spool (some may have been resubmitted since). */
  spooled: number;
  /** Spooled events the endpoint accepted later. */
  resubmitted: number;
  /** Events lost: the spool could not be written. Always logged at warn. */
  dropped: number;
  /** Events the endpoint refused as invalid (400/409/413), kept in the spool's `rejected/` folder. */
  rejected: number;
}

export interface CloseResult extends PushTotals {
  /** Batch files still waiting in the spool (resubmitted at the next start or by `trib push resubmit`). */
  readonly spoolFiles: number;
  /** Why the endpoint refused this client's key, when it did (401/402/403). */
  readonly refused?: string;
}

export class EventValueError extends Error {
  override readonly name = 'EventValueError';
}

export class EventStreamerClosedError extends Error {
  override readonly name = 'EventStreamerClosedError';
}

const MAX_RECONNECT_DELAY_MS = 60_000;

export class EventStreamer {
  readonly spool: EventSpool;
  private readonly sender: PushSender;
  private bucketKey: string;
  private bucketName: string;
  private readonly bufferSize: number;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly closeTimeoutMs: number;
  private readonly reconnectDelayMs: number;
  private readonly level: number;
  private readonly logger: (level: Exclude<PushLogLevel, 'silent'>, line: string) => void;
  private queue: PushedEvent[] = [];
  private readonly buckets = new Set<string>();
  private readonly totals: PushTotals = { sent: 0, spooled: 0, resubmitted: 0, dropped: 0, rejected: 0 };
  private pumping: Promise<void> | undefined;
  private flushWanted = false;
  private closing = false;
  private closeResult: Promise<CloseResult> | undefined;
  /** The endpoint did not answer: until this time batches go to the spool. */
  private offlineUntil = 0;
  private reconnectAttempt = 0;
  private spoolMayHoldBatches = true; // unknown until looked at: a previous process may have left some
  private refused: string | undefined;
  private deadline: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly stopExitHandling: () => void;

  constructor(options: EventStreamerOptions) {
    if (typeof options.endpoint !== 'string' || !/^https?:\/\//.test(options.endpoint))
      throw new EventValueError(
        `endpoint: received ${JSON.stringify(options.endpoint)}; must be an http(s) URL such as http://127.0.0.1:8080`,
      );
    if (typeof options.accessKey !== 'string' || options.accessKey === '')
      throw new EventValueError(
        'accessKey: must be the access key the endpoint gave you (trib ingest keys create)',
      );
    this.bucketKey = options.bucketKey ?? uuidv7();
    this.bucketName = options.bucketName ?? this.bucketKey;
    checkBucket(this.bucketKey, this.bucketName);
    this.bufferSize = positive('bufferSize', options.bufferSize ?? 10);
    this.maxQueue = positive('maxQueue', options.maxQueue ?? 10_000);
    this.maxBatch = positive('maxBatch', options.maxBatch ?? 500);
    this.flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs ?? 1_000);
    this.closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs ?? 10_000);
    this.reconnectDelayMs = positive('reconnectDelayMs', options.reconnectDelayMs ?? 1_000);
    this.level = LEVELS[options.logLevel ?? 'warn'];
    this.logger = options.logger ?? ((level, line) => process.stderr.write(`[push ${level}] ${line}\n`));
    this.spool = EventSpool.forKey(options.spoolDir ?? '.tributary/push-spool', options.accessKey);
    const baseFetch = options.fetch ?? fetch;
    this.sender = new PushSender({
      endpoint: options.endpoint,
      accessKey: options.accessKey,
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.backoffBaseMs === undefined ? {} : { backoffBaseMs: options.backoffBaseMs }),
      // close() cuts a request still in flight at its deadline; the batch is spooled, and if the
      // endpoint took it after all, its ids make the resubmission a no-op.
      fetch: (input, init) =>
        baseFetch(input, {
          ...init,
          signal: init?.signal ? AbortSignal.any([init.signal, this.abort.signal]) : this.abort.signal,
        }),
      log: (line) => this.write('debug', line),
    });
    this.stopExitHandling = options.handleExit === false ? () => {} : flushOnExit(this);
    // Batches an earlier process spooled are resubmitted now, not only when new events come.
    this.kick();
  }

  /** Queues one event; throws EventValueError, naming what is wrong, for a value the API would refuse. */
  log(key: string, value: EventValue, epoch?: number): void {
    if (this.closing)
      throw new EventStreamerClosedError(`log(${JSON.stringify(key)}): the streamer is closed`);
    const keyProblem = eventKeyProblem(key);
    if (keyProblem !== undefined) throw new EventValueError(`log(): key: ${keyProblem}`);
    const valueProblem = eventValueProblem(value);
    if (valueProblem !== undefined)
      throw new EventValueError(`log(${JSON.stringify(key)}): value: ${valueProblem}`);
    if (epoch !== undefined && (typeof epoch !== 'number' || epochProblem(epoch) !== undefined))
      throw new EventValueError(
        `log(${JSON.stringify(key)}): epoch: ${epochProblem(epoch) ?? 'must be a number'}; Unix seconds, e.g. Date.now() / 1000`,
      );
    this.queue.push({
      id: uuidv7(),
      bucketKey: this.bucketKey,
      bucketName: this.bucketName,
      key,
      value,
      epoch: epoch ?? Date.now() / 1000,
    });
    if (this.queue.length >= this.maxQueue + this.maxBatch) this.spillNow();
    if (this.queue.length >= this.bufferSize) this.kick();
    else this.schedule(this.flushIntervalMs);
  }

  /**
   * Logs each element of an array as `<prefix>_<index>` and each property of an object as
   * `<prefix>_<name>`, nested ones recursively, all with one epoch. The prefix defaults to the
   * value's type, as ISStreamer's: `list`, `dict`, or the class name.
   */
  logObject(value: object, options: { readonly keyPrefix?: string; readonly epoch?: number } = {}): void {
    const prefix = options.keyPrefix ?? defaultPrefix(value);
    const epoch = options.epoch ?? Date.now() / 1000;
    const events = flattenObject(value, prefix);
    // All or none: a bad leaf refuses the whole object before any of it is queued.
    for (const event of events) {
      const problem = eventKeyProblem(event.key) ?? eventValueProblem(event.value);
      if (problem !== undefined)
        throw new EventValueError(`logObject(): ${JSON.stringify(event.key)}: ${problem}`);
    }
    for (const event of events) this.log(event.key, event.value, epoch);
  }

  /** Events logged from now on go to this bucket (a new UUID key when none is given). */
  setBucket(bucketName: string, bucketKey: string = uuidv7()): void {
    checkBucket(bucketKey, bucketName);
    this.bucketKey = bucketKey;
    this.bucketName = bucketName;
  }

  /** Events queued in memory right now (bounded by `maxQueue` plus one batch). */
  get pendingInMemory(): number {
    return this.queue.length;
  }

  get counts(): Readonly<PushTotals> {
    return { ...this.totals };
  }

  /**
   * Ships everything queued, and resubmits the spool while the endpoint answers. Resolves when the
   * queue is empty: each event was sent, or spooled because the endpoint is unreachable.
   */
  async flush(): Promise<void> {
    this.flushWanted = true;
    for (;;) {
      this.kick();
      await this.pumping;
      if (this.queue.length === 0 && (!this.spoolMayHoldBatches || this.isOffline())) break;
      if (this.closing && this.pastDeadline()) break;
    }
    this.flushWanted = false;
  }

  /**
   * Flushes within `timeoutMs`, then spools what is left and stops. Resolves with what was sent,
   * spooled, dropped and rejected over the client's life. Calling it again returns the same result.
   */
  close(timeoutMs = this.closeTimeoutMs): Promise<CloseResult> {
    this.closeResult ??= this.closeOnce(timeoutMs);
    return this.closeResult;
  }

  private async closeOnce(timeoutMs: number): Promise<CloseResult> {
    this.closing = true;
    this.deadline = Date.now() + timeoutMs;
    const cut = setTimeout(() => this.abort.abort(new Error('close() deadline reached')), timeoutMs);
    try {
      await this.flush();
      // An endpoint that was down may be back before the deadline: keep trying the spool until then.
      while (this.spoolMayHoldBatches && this.refused === undefined && this.offlineUntil < this.deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.offlineUntil - Date.now())));
        await this.flush();
        if (this.pastDeadline()) break;
      }
    } finally {
      clearTimeout(cut);
    }
    await this.pumping;
    // Whatever the deadline left in memory goes to disk.
    if (this.queue.length > 0) await this.spoolBatch(this.queue.splice(0));
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.stopExitHandling();
    const spoolFiles = await this.spool.count().catch(() => 0);
    if (spoolFiles > 0)
      this.write(
        'warn',
        `${spoolFiles} batch file(s) wait in ${this.spool.folder}; they are sent at the next start, or now with: trib push resubmit ${this.spool.folder}`,
      );
    return { ...this.totals, spoolFiles, ...(this.refused === undefined ? {} : { refused: this.refused }) };
  }

  /** Starts the background loop unless it runs; it catches everything, so nothing surfaces later. */
  private kick(): void {
    if (this.pumping !== undefined) return;
    this.pumping = this.pump()
      .catch((error: unknown) => this.write('error', `push loop failed: ${(error as Error).message}`))
      .finally(() => {
        this.pumping = undefined;
      });
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined || this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushWanted = true;
      this.kick();
    }, ms);
    this.timer.unref(); // a pending flush never keeps the process alive; beforeExit flushes instead
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.queue.length > this.maxQueue) {
        // Memory stays bounded: the oldest events go to disk, in order, and are resubmitted later.
        await this.spoolBatch(
          this.queue.splice(0, Math.min(this.maxBatch, this.queue.length - this.maxQueue)),
        );
        continue;
      }
      if (this.spoolMayHoldBatches && !this.isOffline() && !this.pastDeadline()) {
        const resubmitted = await this.resubmitOldest();
        if (resubmitted) continue;
      }
      const ready = this.queue.length >= this.bufferSize || (this.flushWanted && this.queue.length > 0);
      if (!ready) break;
      const batch = this.takeBatch();
      if (this.isOffline() || this.spoolMayHoldBatches || this.pastDeadline()) {
        // Order is kept: while older batches wait in the spool, newer ones queue behind them there.
        await this.spoolBatch(batch);
        continue;
      }
      const outcome = await this.deliver(batch);
      if (outcome.status === 'sent') this.totals.sent += batch.length;
      else await this.settleFailure(batch, outcome);
    }
    if (this.queue.length > 0) this.schedule(this.flushIntervalMs);
    if (this.spoolMayHoldBatches && !this.refused && !this.closing)
      this.schedule(Math.max(0, this.offlineUntil - Date.now()));
  }

  /** The oldest batch, all of one bucket, within the count and body limits. */
  private takeBatch(): PushedEvent[] {
    const first = this.queue[0];
    if (first === undefined) return [];
    let bytes = 2;
    let count = 0;
    for (const event of this.queue) {
      if (count >= this.maxBatch || event.bucketKey !== first.bucketKey) break;
      const size = JSON.stringify(event.value).length + event.key.length + 120;
      if (count > 0 && bytes + size > MAX_BODY_BYTES * 0.9) break;
      bytes += size;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private async deliver(batch: readonly PushedEvent[]): Promise<SendOutcome> {
    const first = batch[0];
    if (first === undefined) return { status: 'sent' };
    if (!this.buckets.has(first.bucketKey)) {
      const created = await this.sender.createBucket(first.bucketKey, first.bucketName, this.deadline);
      if (created.status !== 'sent') return created;
      this.buckets.add(first.bucketKey);
    }
    const outcome = await this.sender.send(first.bucketKey, batch, this.deadline);
    if (outcome.status === 'sent') {
      this.reconnectAttempt = 0;
      this.write('debug', `sent ${batch.length} event(s) to bucket ${first.bucketKey}`);
    }
    return outcome;
  }

  private async settleFailure(batch: PushedEvent[], outcome: Exclude<SendOutcome, { status: 'sent' }>) {
    if (outcome.status === 'invalid' && outcome.httpStatus === 413 && batch.length > 1) {
      // Too big after all (a server with a lower limit): halve it and send the halves in order.
      const half = Math.ceil(batch.length / 2);
      this.queue.unshift(...batch.slice(0, half), ...batch.slice(half));
      return;
    }
    if (outcome.status === 'invalid') {
      await this.reject(batch, outcome.reason);
      return;
    }
    await this.spoolBatch(batch);
    this.noteFailure(outcome);
  }

  private noteFailure(outcome: Exclude<SendOutcome, { status: 'sent' | 'invalid' }>): void {
    if (outcome.status === 'refused') {
      if (this.refused === undefined)
        this.write(
          'error',
          `the endpoint refused this access key (HTTP ${outcome.httpStatus}): ${outcome.reason}. Events are kept in ${this.spool.folder}; fix the key, then run: trib push resubmit ${this.spool.folder}`,
        );
      this.refused = outcome.reason;
      this.offlineUntil = Number.POSITIVE_INFINITY;
      return;
    }
    const delay = Math.min(MAX_RECONNECT_DELAY_MS, this.reconnectDelayMs * 2 ** this.reconnectAttempt);
    this.reconnectAttempt += 1;
    this.offlineUntil = Date.now() + delay;
    this.write(
      'warn',
      `endpoint unreachable (${outcome.reason}); spooling, next try in ${Math.round(delay / 1000)} s`,
    );
  }

  /** Sends the oldest spooled batch; true when it went (or was set aside), false when none is left or it failed. */
  private async resubmitOldest(): Promise<boolean> {
    const [file] = await this.spool.files();
    if (file === undefined) {
      this.spoolMayHoldBatches = false;
      return false;
    }
    const { events } = await this.spool.read(file);
    const outcome = await this.deliver(events);
    if (outcome.status === 'sent') {
      await this.spool.remove(file);
      this.totals.sent += events.length;
      this.totals.resubmitted += events.length;
      this.write('info', `resubmitted ${events.length} spooled event(s)`);
      return true;
    }
    if (outcome.status === 'invalid') {
      await this.reject(events, outcome.reason);
      await this.spool.remove(file);
      return true;
    }
    this.noteFailure(outcome);
    return false;
  }

  /** Spools the oldest batch at once, from `log()`: the loop cannot run while the caller logs in a loop. */
  private spillNow(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      this.spool.writeSync(batch);
      this.spooled(batch);
    } catch (error) {
      this.dropped(batch, error);
    }
  }

  private spooled(batch: readonly PushedEvent[]): void {
    this.totals.spooled += batch.length;
    this.spoolMayHoldBatches = true;
  }

  /** Counted and said at warn: the only way an event is lost is a spool that cannot be written. */
  private dropped(batch: readonly PushedEvent[], error: unknown): void {
    this.totals.dropped += batch.length;
    this.write(
      'warn',
      `dropped ${batch.length} event(s): the spool ${this.spool.folder} could not be written (${(error as Error).message})`,
    );
  }

  private async spoolBatch(batch: readonly PushedEvent[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.spool.write(batch);
      this.spooled(batch);
    } catch (error) {
      this.dropped(batch, error);
    }
  }

  private async reject(batch: readonly PushedEvent[], reason: string): Promise<void> {
    this.totals.rejected += batch.length;
    const rejected = new EventSpool(`${this.spool.folder}/rejected`);
    await rejected.write(batch).catch(() => {
      this.totals.dropped += batch.length;
    });
    this.write(
      'warn',
      `the endpoint refused ${batch.length} event(s) as invalid (${reason}); kept in ${rejected.folder}`,
    );
  }

  private isOffline(): boolean {
    return Date.now() < this.offlineUntil;
  }

  private pastDeadline(): boolean {
    return this.deadline !== undefined && Date.now() >= this.deadline;
  }

  private write(level: Exclude<PushLogLevel, 'silent'>, line: string): void {
    if (LEVELS[level] >= this.level) this.logger(level, line);
  }
}

const LEVELS: Record<PushLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new EventValueError(`${name}: received ${value}; must be a positive whole number`);
  return value;
}

function checkBucket(bucketKey: string, bucketName: string): void {
  const keyProblem = bucketKeyProblem(bucketKey);
  if (keyProblem !== undefined) throw new EventValueError(`bucketKey: ${keyProblem}`);
  const nameProblem = bucketNameProblem(bucketName);
  if (nameProblem !== undefined) throw new EventValueError(`bucketName: ${nameProblem}`);
}

function defaultPrefix(value: object): string {
  if (Array.isArray(value)) return 'list';
  const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  if (prototype === null || prototype === Object.prototype) return 'dict';
  return prototype.constructor?.name ?? 'object';
}
