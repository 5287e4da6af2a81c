/**
 * Turns stream declarations into a Streamer: validates config, then syncs every selected stream,
 * partition by partition, each with its replication method's strategy (`sync/`), emitting SCHEMA, RECORDs and a STATE after each page, so a run can stop at
 * any STATE (a deadline, a failure) and the next one resumes there without gaps. A stream that fails
 * keeps the bookmark of its last STATE; the others go on, and the run ends naming every failure.
 */
import { cloneJson } from '../protocol/exact-json.ts';
import type { JsonObject, JsonSchema, Message } from '../protocol/messages.ts';
import { isObject } from '../protocol/parser.ts';
import type { StreamSpec } from './define-stream.ts';
import {
  HttpClient,
  type HttpClientOptions,
  HttpError,
  type HttpMetrics,
  RateLimitDeadlineError,
} from './http-client.ts';
import { redactor, secretValues } from './redact.ts';
import type { StreamDescription, Streamer, StreamerRunOptions } from './streamer.ts';
import { syncCustomRecords } from './sync/custom-records-sync.ts';
import { fullTableDone, syncFullTable } from './sync/full-table-sync.ts';
import { syncIncremental } from './sync/incremental-sync.ts';
import type { PartitionSync } from './sync/partition-sync.ts';
import { maxValue } from './sync/replication-values.ts';
import type { TokenStore } from './token-store.ts';
import { validateConfig } from './validate-config.ts';

export interface StreamerSpec<Config> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: JsonSchema;
  // biome-ignore lint/suspicious/noExplicitAny: streams differ in their partition types
  readonly streams: readonly StreamSpec<Config, any>[];
  /** How to reach the API for a config: base URL, auth, headers. Omit for sources without HTTP. */
  readonly http?: (
    config: Config,
    runtime: StreamerRuntime,
  ) => Omit<HttpClientOptions, 'deadline' | 'redact' | 'log'>;
  /**
   * The streams this account has, asked once before a run (Chargebee's product catalogue 1.0 or 2.0):
   * the others are skipped with a log line, so no empty table of the other edition is made.
   */
  readonly availableStreams?: (context: {
    readonly config: Config;
    readonly http: HttpClient;
    readonly log: (line: string) => void;
  }) => Promise<readonly string[]>;
  /**
   * Errors that end the whole run at once (a bad token fails every stream alike): returns the message
   * to end it with, or undefined to treat the error as that stream's own.
   */
  readonly fatal?: (error: Error) => string | undefined;
}

/** What the place the streamer runs in offers it beyond its config. */
export interface StreamerRuntime {
  /** A secret the streamer may rewrite (rotated OAuth tokens), by name; only in AWS. */
  readonly secretStore?: (name: string) => TokenStore;
}

export class StreamerFatalError extends Error {
  override readonly name = 'StreamerFatalError';
}

export class StreamsFailedError extends Error {
  override readonly name = 'StreamsFailedError';
  constructor(readonly failures: ReadonlyMap<string, string>) {
    super(
      `${failures.size} stream(s) failed: ${[...failures].map(([stream, reason]) => `${stream}: ${reason}`).join('; ')}`,
    );
  }
}

export interface StreamMetrics extends HttpMetrics {
  records: number;
  durationMs: number;
}

/** Stops the run at the STATE just emitted (deadline). */
class DeadlineReached extends Error {}

interface PartitionBookmark extends JsonObject {}
interface StreamBookmarks {
  partitions: Record<string, PartitionBookmark>;
  /** Full table: the version of the last complete pass, or of the pass in progress. */
  version?: number;
  in_progress?: boolean;
  /** Incremental: the largest value over all partitions (a roll-up for people and for child streams). */
  value?: string | undefined;
}

export function defineStreamer<Config extends object>(spec: StreamerSpec<Config>): Streamer {
  const descriptions: StreamDescription[] = spec.streams.map((stream) => ({
    name: stream.name,
    schema: stream.schema,
    keyProperties: stream.keyProperties,
    replicationMethod: stream.replication.method,
    ...(stream.replication.method === 'INCREMENTAL' ? { replicationKey: stream.replication.key } : {}),
  }));
  const names = new Set(spec.streams.map((stream) => stream.name));
  for (const stream of spec.streams) {
    if (stream.parent !== undefined && !names.has(stream.parent.stream)) {
      throw new Error(
        `streamer ${spec.name}: stream ${stream.name} has parent ${stream.parent.stream}, which is not one of its streams`,
      );
    }
  }
  const streamer: Streamer = {
    name: spec.name,
    description: spec.description,
    configSchema: spec.configSchema,
    streams: descriptions,
    run: (options) => runStreamer(spec, streamer, options),
  };
  return streamer;
}

async function* runStreamer<Config extends object>(
  spec: StreamerSpec<Config>,
  streamer: Streamer,
  options: StreamerRunOptions,
): AsyncGenerator<Message> {
  const config = validateConfig(streamer, options.config) as Config;
  const redact = redactor(secretValues(config as JsonObject, spec.configSchema));
  const log = (line: string) => options.log?.(redact(line));
  const baseUrl = (config as JsonObject).base_url;
  const http = new HttpClient({
    baseUrl: 'http://localhost/',
    ...spec.http?.(config, {
      ...(options.secretStore === undefined ? {} : { secretStore: options.secretStore }),
    }),
    // `base_url` in any streamer's config points it elsewhere: GitHub Enterprise, a proxy, a test fake.
    ...(typeof baseUrl === 'string' ? { baseUrl } : {}),
    ...options.http,
    redact,
    log,
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
  });
  const state = readState(options.state);
  let resumeAt =
    state.currently_syncing !== undefined &&
    spec.streams.some((stream) => stream.name === state.currently_syncing)
      ? state.currently_syncing
      : undefined;
  const selected = new Set(
    spec.streams
      .filter(
        (stream) => options.selectedStreams?.includes(stream.name) ?? stream.selectedByDefault !== false,
      )
      .map((stream) => stream.name),
  );
  // Streams the account does not have (another product edition) are left out, not synced empty.
  if (spec.availableStreams !== undefined && selected.size > 0) {
    let available: readonly string[];
    try {
      available = await spec.availableStreams({ config, http, log });
    } catch (error) {
      const fatal = spec.fatal?.(error as Error);
      throw fatal === undefined ? error : new StreamerFatalError(redact(fatal), { cause: error });
    }
    for (const name of [...selected])
      if (!available.includes(name)) {
        selected.delete(name);
        log(`stream ${name}: not available for this account; skipped`);
      }
  }
  /** The method each stream replicates by in this run: the catalog's, where the stream can do it. */
  const methods = new Map(
    spec.streams.map((stream): [string, 'FULL_TABLE' | 'INCREMENTAL'] => {
      const asked = options.replicationMethods?.[stream.name];
      if (asked === 'FULL_TABLE') return [stream.name, 'FULL_TABLE'];
      if (asked === 'INCREMENTAL' && stream.replication.method !== 'INCREMENTAL')
        log(
          `stream ${stream.name}: the catalog asks for INCREMENTAL, but it has no replication key; it replicates FULL_TABLE`,
        );
      return [stream.name, stream.replication.method];
    }),
  );
  const methodOf = (stream: StreamSpec<Config, unknown>) =>
    methods.get(stream.name) ?? stream.replication.method;
  const bookmarksOf = (name: string): StreamBookmarks => {
    const existing = state.bookmarks[name];
    if (existing !== undefined) return existing;
    const created: StreamBookmarks = { partitions: {} };
    state.bookmarks[name] = created;
    return created;
  };
  const failures = new Map<string, string>();
  const emittedSchemas = new Set<string>();
  const snapshot = (): Message => ({ type: 'STATE', value: cloneJson(state) });
  const deadlinePassed = () => options.deadline !== undefined && Date.now() >= options.deadline;
  const children = (parent: string) =>
    spec.streams.filter(
      (stream) =>
        stream.parent?.stream === parent && (selected.has(stream.name) || hasSelectedDescendant(stream.name)),
    );
  const hasSelectedDescendant = (name: string): boolean =>
    spec.streams.some(
      (stream) =>
        stream.parent?.stream === name && (selected.has(stream.name) || hasSelectedDescendant(stream.name)),
    );

  const fieldFilter = (stream: StreamSpec<Config, unknown>) => {
    const fields = options.selectedFields?.[stream.name];
    if (fields === undefined) return undefined;
    const keep = new Set([
      ...fields,
      ...stream.keyProperties,
      ...(stream.replication.method === 'INCREMENTAL' ? [stream.replication.key] : []),
    ]);
    return keep;
  };

  function schemaMessage(stream: StreamSpec<Config, unknown>): Message {
    const keep = fieldFilter(stream);
    const properties = (stream.schema.properties ?? {}) as Record<string, unknown>;
    const schema =
      keep === undefined
        ? stream.schema
        : {
            ...stream.schema,
            properties: Object.fromEntries(Object.entries(properties).filter(([name]) => keep.has(name))),
          };
    return {
      type: 'SCHEMA',
      stream: stream.name,
      schema,
      keyProperties: stream.keyProperties,
      ...(stream.replication.method === 'INCREMENTAL'
        ? { bookmarkProperties: [stream.replication.key] }
        : {}),
    };
  }

  /**
   * Syncs one partition of one stream with its replication method's strategy. `emit` is false when the
   * stream only drives selected children.
   */
  async function* syncPartition(
    stream: StreamSpec<Config, unknown>,
    partition: unknown,
    emit: boolean,
    metrics: StreamMetrics,
    fullTableVersion: number | undefined,
    beforeFinalCheckpoint: () => void = () => {},
  ): AsyncGenerator<Message, void, undefined> {
    const partitionKey = partitionKeyOf(partition);
    const bookmarks = bookmarksOf(stream.name);
    const context = {
      config,
      partition,
      http,
      log,
      expectRecords: (records: number) => options.onTotal?.(stream.name, records),
    };
    const keep = fieldFilter(stream);
    const shape = (record: JsonObject): JsonObject =>
      keep === undefined
        ? record
        : Object.fromEntries(Object.entries(record).filter(([name]) => keep.has(name)));
    const childStreams = children(stream.name);
    const extract = stream.extract ?? ((body: unknown) => defaultExtract(body, stream.name));
    const parse = stream.parse ?? ((raw: unknown) => (isObject(raw) ? raw : undefined));
    const startDate = (config as JsonObject).start_date;

    const sync: PartitionSync<Config> = {
      stream,
      context,
      previous: bookmarks.partitions[partitionKey],
      startDate: typeof startDate === 'string' ? startDate : undefined,
      setBookmark(bookmark) {
        if (!emit) return;
        bookmarks.partitions[partitionKey] = bookmark;
        // The stream's roll-up: the largest value over its partitions, for people and child streams.
        if (typeof bookmark.value === 'string') bookmarks.value = maxValue(bookmarks.value, bookmark.value);
      },
      async *emit(records) {
        for (const record of records) {
          metrics.records += 1;
          if (emit)
            yield {
              type: 'RECORD',
              stream: stream.name,
              record: shape(record),
              ...(fullTableVersion === undefined ? {} : { version: fullTableVersion }),
            };
        }
        for (const child of childStreams) {
          for (const record of records) yield* syncChild(child, child.parent?.partition(record));
        }
      },
      *checkpoint() {
        if (!emit) return;
        yield snapshot();
        if (deadlinePassed() && !allStreamsDone) throw new DeadlineReached();
      },
      beforeFinalCheckpoint,
      async fetchPage(request) {
        try {
          return await http.request(request);
        } catch (error) {
          if (error instanceof HttpError && stream.treatAsEmpty?.(error.status, error.body) === true) {
            return { status: error.status, headers: new Headers(), url: error.url, body: [] };
          }
          throw error;
        }
      },
      recordsOf(body) {
        const records: JsonObject[] = [];
        for (const raw of extract(body)) {
          const record = parse(raw, context);
          if (record !== undefined) records.push(record);
        }
        return records;
      },
    };
    if (stream.getRecords !== undefined) yield* syncCustomRecords(sync);
    // The first test narrows `replication`'s type for the incremental strategy below.
    else if (stream.replication.method === 'FULL_TABLE' || methodOf(stream) === 'FULL_TABLE')
      yield* syncFullTable(sync);
    else yield* syncIncremental(sync, stream.replication);
  }

  /** A child stream for one parent record; its failure is recorded and the parent goes on. */
  async function* syncChild(
    child: StreamSpec<Config, unknown>,
    partition: unknown,
  ): AsyncGenerator<Message, void, undefined> {
    if (failures.has(child.name)) return;
    const emit = selected.has(child.name);
    if (emit && !emittedSchemas.has(child.name)) {
      emittedSchemas.add(child.name);
      yield schemaMessage(child);
    }
    const metrics = streamMetrics.get(child.name) ?? newMetrics();
    streamMetrics.set(child.name, metrics);
    try {
      // A child read whole has nothing to resume once done: keeping a `done` per parent record would
      // grow the state by one entry for every record the parent ever had.
      const forget = () => {
        if (methodOf(child) === 'FULL_TABLE')
          delete bookmarksOf(child.name).partitions[partitionKeyOf(partition)];
      };
      yield* syncPartition(child, partition, emit, metrics, undefined, forget);
    } catch (error) {
      if (error instanceof DeadlineReached) throw error;
      failures.set(child.name, redact((error as Error).message));
      log(
        `stream ${child.name} failed for ${partitionKeyOf(partition)}: ${redact((error as Error).message)}`,
      );
    }
  }

  let allStreamsDone = false;
  const topLevel = spec.streams.filter(
    (stream) =>
      stream.parent === undefined && (selected.has(stream.name) || hasSelectedDescendant(stream.name)),
  );
  const moveOnFrom = (name: string) => {
    const next = topLevel[topLevel.findIndex((stream) => stream.name === name) + 1];
    if (next === undefined) {
      delete state.currently_syncing;
      allStreamsDone = true; // a deadline now finds nothing left to do
    } else {
      state.currently_syncing = next.name;
    }
  };
  const streamMetrics = new Map<string, StreamMetrics>();
  let stoppedAtDeadline = false;
  /** Set when the run stopped for a rate limit: the source answers again from then on. */
  let rateLimitedUntil: number | undefined;
  const newMetrics = (): StreamMetrics => ({
    requests: 0,
    retries: 0,
    waits: 0,
    waitedMs: 0,
    bytes: 0,
    records: 0,
    durationMs: 0,
  });

  try {
    for (const stream of spec.streams) {
      if (stream.parent !== undefined) continue; // children run inside their parent
      const emit = selected.has(stream.name);
      if (!emit && !hasSelectedDescendant(stream.name)) continue;
      // A run that stopped at a deadline finished the streams before this one: continue, not restart.
      if (resumeAt !== undefined && resumeAt !== stream.name) continue;
      resumeAt = undefined;
      state.currently_syncing = stream.name;
      const started = Date.now();
      const before = { ...http.metrics };
      const metrics = newMetrics();
      streamMetrics.set(stream.name, metrics);
      if (emit) {
        emittedSchemas.add(stream.name);
        yield schemaMessage(stream);
      }
      try {
        const partitions = stream.partitions?.(config) ?? [{}];
        let version: number | undefined;
        if (methodOf(stream) === 'FULL_TABLE' && stream.getRecords === undefined && emit) {
          const bookmarks = bookmarksOf(stream.name);
          if (bookmarks.in_progress !== true) {
            // A new pass. ACTIVATE_VERSION goes first only on the very first pass, so the table exists
            // at once; later passes replace the old rows only when they are complete.
            const first = bookmarks.version === undefined;
            bookmarks.version = Date.now();
            bookmarks.in_progress = true;
            bookmarks.partitions = {};
            if (first) yield { type: 'ACTIVATE_VERSION', stream: stream.name, version: bookmarks.version };
          }
          version = bookmarks.version;
        }
        let partitionFailed = false;
        for (const partition of partitions) {
          const done =
            version !== undefined &&
            fullTableDone(state.bookmarks[stream.name]?.partitions[partitionKeyOf(partition)]);
          if (done) continue;
          // When an incremental stream's last partition is done, its final STATE already points the run
          // at the next stream, so a deadline right there does not make the next invocation redo this one.
          const last = partition === partitions[partitions.length - 1] && version === undefined;
          const advance = () => {
            if (last) moveOnFrom(stream.name);
          };
          try {
            yield* syncPartition(stream, partition, emit, metrics, version, advance);
          } catch (error) {
            if (
              error instanceof DeadlineReached ||
              error instanceof RateLimitDeadlineError ||
              partitions.length === 1
            )
              throw error;
            const fatal = spec.fatal?.(error as Error);
            if (fatal !== undefined) throw new StreamerFatalError(redact(fatal), { cause: error });
            // One partition (one repository) failing leaves the others to finish; its bookmark stays.
            partitionFailed = true;
            const where = partitionKeyOf(partition);
            const reason = `${where}: ${redact((error as Error).message)}`;
            failures.set(stream.name, [failures.get(stream.name), reason].filter(Boolean).join('; '));
            log(`stream ${stream.name} failed for ${reason}`);
          }
        }
        if (version !== undefined && !partitionFailed) {
          yield { type: 'ACTIVATE_VERSION', stream: stream.name, version };
          state.bookmarks[stream.name] = { partitions: {}, version };
          yield snapshot();
        }
      } catch (error) {
        if (error instanceof DeadlineReached || error instanceof StreamerFatalError) throw error;
        if (error instanceof RateLimitDeadlineError) {
          rateLimitedUntil = error.resumeAt;
          log(`stream ${stream.name}: ${error.message}`);
          throw new DeadlineReached();
        }
        const fatal = spec.fatal?.(error as Error);
        if (fatal !== undefined) throw new StreamerFatalError(redact(fatal), { cause: error });
        failures.set(stream.name, redact((error as Error).message));
        log(`stream ${stream.name} failed: ${redact((error as Error).message)}`);
      } finally {
        metrics.durationMs = Date.now() - started;
        for (const key of ['requests', 'retries', 'waits', 'waitedMs', 'bytes'] as const)
          metrics[key] = http.metrics[key] - before[key];
      }
    }
  } catch (error) {
    if (!(error instanceof DeadlineReached)) throw error;
    log(`${spec.name}: deadline reached; stopped at the last STATE, the next run resumes there`);
    options.onDeadline?.(rateLimitedUntil === undefined ? {} : { resumeAt: rateLimitedUntil });
    stoppedAtDeadline = true;
  } finally {
    for (const [stream, metrics] of streamMetrics) {
      for (const [metric, value] of Object.entries({
        record_count: metrics.records,
        http_request_count: metrics.requests,
        retry_count: metrics.retries,
        wait_ms: metrics.waitedMs,
        response_bytes: metrics.bytes,
        sync_duration_ms: metrics.durationMs,
      })) {
        log(
          `METRIC: ${JSON.stringify({ type: metric.endsWith('_ms') ? 'timer' : 'counter', metric, value, tags: { stream } })}`,
        );
      }
      options.onMetrics?.(stream, { ...metrics });
    }
  }
  if (stoppedAtDeadline) return; // the last STATE keeps currently_syncing: the next run continues there
  // The run went through every stream (some may have failed): the next one starts from the first.
  if (state.currently_syncing !== undefined) {
    delete state.currently_syncing;
    yield snapshot();
  }
  if (failures.size > 0) throw new StreamsFailedError(failures);
}

interface SyncState {
  bookmarks: Record<string, StreamBookmarks>;
  /** The stream a run was syncing when it stopped at a deadline (Singer's convention): the next run starts there. */
  currently_syncing?: string;
}

function readState(value: unknown): SyncState {
  const bookmarks = isObject(value) && isObject(value.bookmarks) ? cloneJson(value.bookmarks) : {};
  for (const [name, entry] of Object.entries(bookmarks)) {
    if (!isObject(entry) || !isObject(entry.partitions)) bookmarks[name] = { partitions: {} };
  }
  const current =
    isObject(value) && typeof value.currently_syncing === 'string' ? value.currently_syncing : undefined;
  return {
    bookmarks: bookmarks as Record<string, StreamBookmarks>,
    ...(current === undefined ? {} : { currently_syncing: current }),
  };
}

export function partitionKeyOf(partition: unknown): string {
  return isObject(partition) && Object.keys(partition).length === 0 ? '' : JSON.stringify(partition);
}

function defaultExtract(body: unknown, name: string): unknown[] {
  if (Array.isArray(body)) return body;
  if (isObject(body) && Array.isArray(body[name])) return body[name] as unknown[];
  return [];
}
