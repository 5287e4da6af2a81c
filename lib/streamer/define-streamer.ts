/**
 * Turns stream declarations into a Streamer: validates config, then syncs every selected stream,
 * partition by partition, emitting SCHEMA, RECORDs and a STATE after each page, so a run can stop at
 * any STATE (a deadline, a failure) and the next one resumes there without gaps. A stream that fails
 * keeps the bookmark of its last STATE; the others go on, and the run ends naming every failure.
 */
import type { JsonObject, JsonSchema, Message } from '../protocol/messages.ts';
import { isObject } from '../protocol/parser.ts';
import { parseDuration, type StreamSpec } from './define-stream.ts';
import {
  HttpClient,
  type HttpClientOptions,
  HttpError,
  type HttpMetrics,
  RateLimitDeadlineError,
} from './http-client.ts';
import { nextPage, type PageState } from './pagination.ts';
import { redactor, secretValues } from './redact.ts';
import type { StreamDescription, Streamer, StreamerRunOptions } from './streamer.ts';
import { validateConfig } from './validate-config.ts';

export interface StreamerSpec<Config> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: JsonSchema;
  // biome-ignore lint/suspicious/noExplicitAny: streams differ in their partition types
  readonly streams: readonly StreamSpec<Config, any>[];
  /** How to reach the API for a config: base URL, auth, headers. Omit for sources without HTTP. */
  readonly http?: (config: Config) => Omit<HttpClientOptions, 'deadline' | 'redact' | 'log'>;
  /**
   * Errors that end the whole run at once (a bad token fails every stream alike): returns the message
   * to end it with, or undefined to treat the error as that stream's own.
   */
  readonly fatal?: (error: Error) => string | undefined;
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
    ...spec.http?.(config),
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
  const bookmarksOf = (name: string): StreamBookmarks => {
    const existing = state.bookmarks[name];
    if (existing !== undefined) return existing;
    const created: StreamBookmarks = { partitions: {} };
    state.bookmarks[name] = created;
    return created;
  };
  const failures = new Map<string, string>();
  const emittedSchemas = new Set<string>();
  const snapshot = (): Message => ({ type: 'STATE', value: structuredClone(state) });
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
   * Syncs one partition of one stream. `emit` is false when the stream only drives selected children.
   * Yields messages; calls `onRecords` with each page's records for child streams.
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
    const previous = bookmarks.partitions[partitionKey];
    const context = { config, partition, http, log };
    const keep = fieldFilter(stream);
    const shape = (record: JsonObject): JsonObject =>
      keep === undefined
        ? record
        : Object.fromEntries(Object.entries(record).filter(([name]) => keep.has(name)));
    const childStreams = children(stream.name);

    async function* handleRecords(records: readonly JsonObject[]): AsyncGenerator<Message, void, undefined> {
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
        for (const record of records) {
          const childPartition = child.parent?.partition(record);
          yield* syncChild(child, childPartition);
        }
      }
    }

    const checkpoint = function* (): Generator<Message, void, undefined> {
      if (!emit) return;
      yield snapshot();
      if (deadlinePassed() && !allStreamsDone) throw new DeadlineReached();
    };

    if (stream.getRecords !== undefined) {
      let current = previous;
      let sinceState = 0;
      let wantState = false;
      const every = stream.stateEvery ?? 1000;
      const buffer: JsonObject[] = [];
      const flush = async function* (): AsyncGenerator<Message, void, undefined> {
        yield* handleRecords(buffer.splice(0));
        if (emit && current !== undefined) bookmarks.partitions[partitionKey] = current;
        sinceState = 0;
        wantState = false;
        yield* checkpoint();
      };
      for await (const record of stream.getRecords({
        ...context,
        bookmark: previous,
        advance: (bookmark) => {
          current = bookmark;
        },
        checkpoint: () => {
          wantState = true;
        },
      })) {
        // A checkpoint asked for before this record covers only the records before it.
        if (wantState) yield* flush();
        buffer.push(record);
        sinceState += 1;
        if (sinceState >= every) yield* flush();
      }
      yield* handleRecords(buffer.splice(0));
      if (emit && current !== undefined) bookmarks.partitions[partitionKey] = current;
      beforeFinalCheckpoint();
      yield* checkpoint();
      return;
    }

    const request = stream.request;
    if (request === undefined) return;
    const paginate = stream.paginate;
    const replication = stream.replication;
    const extract = stream.extract ?? ((body: unknown) => defaultExtract(body, stream.name));
    const fetchPage = async (pageRequest: Parameters<HttpClient['request']>[0]) => {
      try {
        return await http.request(pageRequest);
      } catch (error) {
        if (error instanceof HttpError && stream.treatAsEmpty?.(error.status, error.body) === true) {
          return { status: error.status, headers: new Headers(), url: error.url, body: [] };
        }
        throw error;
      }
    };
    const parse: (
      raw: unknown,
      context: { config: Config; partition: unknown; http: HttpClient; log: (line: string) => void },
    ) => JsonObject | undefined = stream.parse ?? ((raw: unknown) => (isObject(raw) ? raw : undefined));
    const parseEach = (raws: readonly unknown[]): JsonObject[] => {
      const records: JsonObject[] = [];
      for (const raw of raws) {
        const record = parse(raw, context);
        if (record !== undefined) records.push(record);
      }
      return records;
    };

    if (replication.method === 'FULL_TABLE') {
      const resume = previous?.resume as PageState | undefined;
      let page: PageState | undefined = resume;
      for (;;) {
        const response = await fetchPage(
          paginate === undefined ? request(context) : paginate.apply(request(context), page),
        );
        const records = parseEach(extract(response.body));
        const next = nextPage(paginate, response, records, page, stream.name);
        yield* handleRecords(records);
        if (next === undefined) break;
        page = next;
        if (emit) bookmarks.partitions[partitionKey] = { resume: page };
        yield* checkpoint();
      }
      if (emit) bookmarks.partitions[partitionKey] = { done: true };
      yield* checkpoint();
      return;
    }

    // INCREMENTAL
    const filter = replication.filter ?? 'gte';
    const order = replication.order ?? 'none';
    const startDate =
      typeof (config as JsonObject).start_date === 'string'
        ? ((config as JsonObject).start_date as string)
        : undefined;
    const savedValue = typeof previous?.value === 'string' ? previous.value : undefined;
    const lookback =
      typeof replication.lookback === 'function' ? replication.lookback(config) : replication.lookback;
    const lookbackMs = lookback === undefined ? 0 : parseDuration(lookback);
    const baseSince =
      savedValue === undefined ? startDate : lookbackMs > 0 ? shiftIso(savedValue, -lookbackMs) : savedValue;
    const boundaryKeys = new Set(
      Array.isArray(previous?.boundary_keys) ? (previous.boundary_keys as string[]) : [],
    );
    const resume = isObject(previous?.resume) ? previous.resume : undefined;
    const runUntil = new Date().toISOString();
    const windowMs = replication.window === undefined ? undefined : parseDuration(replication.window);
    let windowStart = typeof resume?.window_start === 'string' ? resume.window_start : baseSince;
    let maxValue = typeof resume?.max === 'string' ? resume.max : savedValue;
    let maxKeys = new Set<string>(
      Array.isArray(resume?.max_keys)
        ? (resume.max_keys as string[])
        : savedValue === maxValue
          ? boundaryKeys
          : [],
    );
    let page = isObject(resume?.page) ? (resume.page as PageState) : undefined;
    /** After a narrowed window restarts at a value, the records read at that value are not read again. */
    let restartKeys = new Set<string>();
    const keyOf = (record: JsonObject) =>
      JSON.stringify(stream.keyProperties.map((key) => record[key] ?? null));
    const track = (record: JsonObject) => {
      const value = record[replication.key];
      if (typeof value !== 'string' && typeof value !== 'number') return;
      const text = String(value);
      const comparison = maxValue === undefined ? 1 : compareValues(text, maxValue);
      if (comparison > 0) {
        maxValue = text;
        maxKeys = new Set([keyOf(record)]);
      } else if (comparison === 0 && maxKeys.size < 1000) {
        maxKeys.add(keyOf(record));
      }
    };
    const bookmarkNow = (complete: boolean): PartitionBookmark => {
      const value = complete || order === 'asc' ? maxValue : savedValue;
      const keys = complete || order === 'asc' ? maxKeys : boundaryKeys;
      const settled: PartitionBookmark = {
        ...(value === undefined ? {} : { value }),
        ...(filter !== 'gt' && keys.size > 0 ? { boundary_keys: [...keys] } : {}),
      };
      return settled;
    };

    for (;;) {
      const windowEnd =
        windowMs === undefined || windowStart === undefined
          ? undefined
          : minIso(shiftIso(windowStart, windowMs), runUntil);
      let requestContext = {
        ...context,
        ...(windowStart === undefined ? {} : { since: windowStart }),
        ...(windowEnd === undefined ? {} : { until: windowEnd }),
      };
      let stop = false;
      for (;;) {
        const base = request(requestContext);
        let response: Awaited<ReturnType<typeof fetchPage>>;
        try {
          response = await fetchPage(paginate === undefined ? base : paginate.apply(base, page));
        } catch (error) {
          // Too many records in this window to page through: start it again after the last one read.
          const narrowable =
            error instanceof HttpError && stream.narrowWindowOn?.(error.status, error.body) === true;
          if (
            !narrowable ||
            order !== 'asc' ||
            maxValue === undefined ||
            (windowStart !== undefined && compareValues(maxValue, windowStart) <= 0)
          ) {
            throw error;
          }
          log(
            `stream ${stream.name}: window from ${windowStart} holds more than the API pages through; continuing from ${maxValue}`,
          );
          windowStart = maxValue;
          restartKeys = new Set(maxKeys);
          requestContext = { ...requestContext, since: windowStart };
          page = undefined;
          continue;
        }
        const parsed = parseEach(extract(response.body));
        const records = parsed.filter((record) => {
          const value = record[replication.key];
          if (value === undefined || value === null || baseSince === undefined) return true;
          const text = String(value);
          if (compareValues(text, baseSince) < 0) return false;
          // The API returns records at the bookmark again ('gte'): skip those already loaded.
          if (
            lookbackMs === 0 &&
            savedValue !== undefined &&
            compareValues(text, savedValue) === 0 &&
            boundaryKeys.has(keyOf(record))
          )
            return false;
          if (
            restartKeys.size > 0 &&
            windowStart !== undefined &&
            compareValues(text, windowStart) === 0 &&
            restartKeys.has(keyOf(record))
          )
            return false;
          return true;
        });
        if (order === 'desc' && parsed.length > records.length) stop = true;
        const next = stop ? undefined : nextPage(paginate, response, parsed, page, stream.name);
        for (const record of records) track(record);
        yield* handleRecords(records);
        if (next === undefined) break;
        page = next;
        if (emit) {
          bookmarks.partitions[partitionKey] = {
            ...bookmarkNow(false),
            resume: {
              page,
              ...(windowStart === undefined ? {} : { window_start: windowStart }),
              ...(maxValue === undefined ? {} : { max: maxValue }),
              max_keys: [...maxKeys],
            },
          };
          bookmarks.value = maxString(
            bookmarks.value,
            (bookmarks.partitions[partitionKey] as PartitionBookmark).value as string | undefined,
          );
        }
        yield* checkpoint();
      }
      page = undefined;
      if (windowEnd === undefined || compareValues(windowEnd, runUntil) >= 0) break;
      windowStart = windowEnd;
      // A finished window is loaded in full: its end is a safe bookmark even if it held no records.
      if (maxValue === undefined || compareValues(windowEnd, maxValue) > 0) {
        maxValue = windowEnd;
        maxKeys = new Set();
      }
      if (emit)
        bookmarks.partitions[partitionKey] = {
          ...bookmarkNow(true),
          resume: { window_start: windowStart, max: maxValue, max_keys: [...maxKeys] },
        };
      yield* checkpoint();
    }
    if (emit) {
      bookmarks.partitions[partitionKey] = bookmarkNow(true);
      bookmarks.value = maxString(bookmarks.value, maxValue);
    }
    beforeFinalCheckpoint();
    yield* checkpoint();
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
      yield* syncPartition(child, partition, emit, metrics, undefined);
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
        if (stream.replication.method === 'FULL_TABLE' && stream.getRecords === undefined && emit) {
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
            state.bookmarks[stream.name]?.partitions[partitionKeyOf(partition)]?.done === true;
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
  const bookmarks = isObject(value) && isObject(value.bookmarks) ? structuredClone(value.bookmarks) : {};
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

/** Compares replication values: as instants when both are dates, as numbers when numeric, else as text. */
export function compareValues(a: string, b: string): number {
  const dateA = Date.parse(a);
  const dateB = Date.parse(b);
  if (
    !Number.isNaN(dateA) &&
    !Number.isNaN(dateB) &&
    /\d{4}-\d{2}-\d{2}/.test(a) &&
    /\d{4}-\d{2}-\d{2}/.test(b)
  )
    return dateA - dateB;
  const numberA = Number(a);
  const numberB = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(numberA) && Number.isFinite(numberB))
    return numberA - numberB;
  return a < b ? -1 : a > b ? 1 : 0;
}

function shiftIso(value: string, ms: number): string {
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time + ms).toISOString();
}

function minIso(a: string, b: string): string {
  return compareValues(a, b) <= 0 ? a : b;
}

function maxString(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareValues(a, b) >= 0 ? a : b;
}
