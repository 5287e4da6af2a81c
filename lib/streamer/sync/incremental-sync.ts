/**
 * INCREMENTAL: the records changed since the bookmark, in windows when the stream asks for them.
 *
 * A stream whose API returns records oldest first (`order: 'asc'`, filtering `since` inclusively or
 * not at all) resumes by value: every STATE carries the largest value read and the records read at it,
 * and a run that stopped mid-stream starts again from that value. Resuming by page number would miss
 * records: a record updated meanwhile moves to the end and shifts every later page by one. Other orders
 * advance the bookmark only when the partition is done, and resume at the page they stopped at (a shift
 * there re-reads a record, it does not skip one).
 */
import type { JsonObject, Message } from '../../protocol/messages.ts';
import { isObject } from '../../protocol/parser.ts';
import { parseDuration, type Replication } from '../define-stream.ts';
import { HttpError } from '../http-client.ts';
import { nextPage, type PageState } from '../pagination.ts';
import { Boundary } from './boundary.ts';
import type { PartitionSync } from './partition-sync.ts';
import { compareValues, minValue, shiftIso } from './replication-values.ts';

type IncrementalReplication = Extract<Replication, { method: 'INCREMENTAL' }>;

/** A partition's bookmark. `value` and `boundary_keys` are settled: everything up to them is loaded. */
export interface IncrementalBookmark {
  value?: string;
  /** The records read at `value` (key and content digest, see Boundary). */
  boundary_keys?: string[];
  /** Resuming by value: the run stopped mid-stream at `value`; the next one continues there, with no lookback. */
  in_progress?: true;
  /** Resuming by page: where the stopped run was, and the largest value it had read. */
  resume?: { page?: PageState; window_start?: string; max?: string; max_keys?: string[] };
}

function readBookmark(previous: JsonObject | undefined): IncrementalBookmark {
  if (previous === undefined) return {};
  const resume = isObject(previous.resume) ? previous.resume : undefined;
  return {
    ...(typeof previous.value === 'string' ? { value: previous.value } : {}),
    ...(Array.isArray(previous.boundary_keys) ? { boundary_keys: previous.boundary_keys as string[] } : {}),
    ...(previous.in_progress === true ? { in_progress: true } : {}),
    ...(resume === undefined
      ? {}
      : {
          resume: {
            ...(isObject(resume.page) ? { page: resume.page as PageState } : {}),
            ...(typeof resume.window_start === 'string' ? { window_start: resume.window_start } : {}),
            ...(typeof resume.max === 'string' ? { max: resume.max } : {}),
            ...(Array.isArray(resume.max_keys) ? { max_keys: resume.max_keys as string[] } : {}),
          },
        }),
  };
}

export async function* syncIncremental<Config>(
  sync: PartitionSync<Config>,
  replication: IncrementalReplication,
): AsyncGenerator<Message, void, undefined> {
  const { stream, context } = sync;
  const request = stream.request;
  if (request === undefined) return;
  const keys = stream.keyProperties;
  const filter = replication.filter ?? 'gte';
  const order = replication.order ?? 'none';
  const byValue = order === 'asc' && filter !== 'gt';
  const saved = readBookmark(sync.previous);
  const lookback =
    typeof replication.lookback === 'function' ? replication.lookback(context.config) : replication.lookback;
  const lookbackMs = lookback === undefined ? 0 : parseDuration(lookback);
  const continuing = byValue && saved.in_progress === true && saved.value !== undefined;
  const since =
    saved.value === undefined
      ? sync.startDate
      : continuing || lookbackMs === 0
        ? saved.value
        : shiftIso(saved.value, -lookbackMs);
  /** Records already loaded that the API returns again (at `since`, or where a narrowed window restarts). */
  let skip =
    continuing || lookbackMs === 0 ? Boundary.of(saved.value, saved.boundary_keys) : Boundary.empty();
  const settled = Boundary.of(saved.value, saved.boundary_keys);
  const resume = byValue ? undefined : saved.resume;
  /** The largest value read, and the records read at it. */
  const max = resume?.max === undefined ? settled.copy() : Boundary.of(resume.max, resume.max_keys ?? []);
  let windowStart = resume?.window_start ?? since;
  let page = resume?.page;
  const runUntil = new Date().toISOString();
  const windowMs = replication.window === undefined ? undefined : parseDuration(replication.window);

  const bookmarkOf = (boundary: Boundary): IncrementalBookmark => ({
    ...(boundary.value === undefined ? {} : { value: boundary.value }),
    ...(filter !== 'gt' && boundary.keys.length > 0 ? { boundary_keys: boundary.keys } : {}),
  });
  /** The bookmark while the partition is not done. */
  const bookmarkSoFar = (): IncrementalBookmark =>
    byValue
      ? { ...bookmarkOf(max), ...(max.value === undefined ? {} : { in_progress: true }) }
      : {
          ...bookmarkOf(settled),
          resume: {
            ...(page === undefined ? {} : { page }),
            ...(windowStart === undefined ? {} : { window_start: windowStart }),
            ...(max.value === undefined ? {} : { max: max.value }),
            max_keys: max.keys,
          },
        };
  const save = (bookmark: IncrementalBookmark) => sync.setBookmark(bookmark as JsonObject);

  const wanted = (record: JsonObject): boolean => {
    const value = record[replication.key];
    if (value === undefined || value === null || since === undefined) return true;
    const text = String(value);
    if (compareValues(text, since) < 0) return false;
    return !skip.has(text, record, keys);
  };

  for (;;) {
    const windowEnd =
      windowMs === undefined || windowStart === undefined
        ? undefined
        : minValue(shiftIso(windowStart, windowMs), runUntil);
    const requestContext = () => ({
      ...context,
      ...(windowStart === undefined ? {} : { since: windowStart }),
      ...(windowEnd === undefined ? {} : { until: windowEnd }),
    });
    for (;;) {
      const base = request(requestContext());
      let response: Awaited<ReturnType<typeof sync.fetchPage>>;
      try {
        response = await sync.fetchPage(
          stream.paginate === undefined ? base : stream.paginate.apply(base, page),
        );
      } catch (error) {
        // Too many records in this window to page through: start it again at the last value read.
        const narrowable =
          error instanceof HttpError && stream.narrowWindowOn?.(error.status, error.body) === true;
        if (
          !narrowable ||
          order !== 'asc' ||
          max.value === undefined ||
          (windowStart !== undefined && compareValues(max.value, windowStart) <= 0)
        )
          throw error;
        context.log(
          `stream ${stream.name}: window from ${windowStart} holds more than the API pages through; continuing from ${max.value}`,
        );
        windowStart = max.value;
        skip = max.copy();
        page = undefined;
        continue;
      }
      const parsed = sync.recordsOf(response.body);
      const records = parsed.filter(wanted);
      // Newest first: a record older than `since` means every later page is older still.
      const older =
        order === 'desc' &&
        since !== undefined &&
        parsed.some((record) => {
          const value = record[replication.key];
          return value !== undefined && value !== null && compareValues(String(value), since) < 0;
        });
      const next = older ? undefined : nextPage(stream.paginate, response, parsed, page, stream.name);
      for (const record of records) {
        const value = record[replication.key];
        if (typeof value === 'string' || typeof value === 'number') max.add(String(value), record, keys);
      }
      yield* sync.emit(records);
      if (next === undefined) break;
      page = next; // this run goes on by page; a run resumed by value starts again from its value
      save(bookmarkSoFar());
      yield* sync.checkpoint();
    }
    page = undefined;
    if (windowEnd === undefined || compareValues(windowEnd, runUntil) >= 0) break;
    windowStart = windowEnd;
    // A finished window is loaded in full: its end is a safe bookmark even if it held no records.
    max.moveTo(windowEnd);
    if (byValue) save(bookmarkSoFar());
    else
      save({ ...bookmarkOf(max), resume: { window_start: windowStart, max: windowEnd, max_keys: max.keys } });
    yield* sync.checkpoint();
  }
  save(bookmarkOf(max));
  sync.beforeFinalCheckpoint();
  yield* sync.checkpoint();
}
