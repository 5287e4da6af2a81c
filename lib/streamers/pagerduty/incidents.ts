/**
 * PagerDuty incidents, new and changed. The incident list filters on creation time only, so an
 * incident acknowledged, resolved, reassigned or re-prioritised after the last sync is not in any new
 * window. Every such change writes a log entry, so each run reads two things:
 * 1. incidents created since the last one read (30-day windows, oldest first);
 * 2. log entries written since the previous run began, with their incidents included
 *    (`include[]=incidents`), each incident taken once, as it is now.
 * A full sync and every incremental sync then equal the account's incidents as they are.
 */
import type { JsonObject } from '../../protocol/messages.ts';
import type { RecordsContext } from '../../streamer/define-stream.ts';
import { type HttpClient, HttpError } from '../../streamer/http-client.ts';

export interface IncidentsConfig {
  start_date: string;
  time_zone: string;
}

/** The incidents stream's bookmark. `value` is the shape older versions wrote (creation time only). */
interface IncidentsBookmark extends JsonObject {
  created_at?: string;
  /** The ids read at `created_at`, so reading from it again (inclusive) repeats none. */
  at_created?: string[];
  changes_since?: string;
  value?: string;
}

const PAGE = 100;
const DAY = 86_400_000;
const CREATED_WINDOW = 30 * DAY; // inside the API's 6-month maximum
const CHANGES_WINDOW = 7 * DAY;
/** Log entries are read from a little before the previous run began: clocks differ. */
const CLOCK_SKEW_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** PagerDuty's 400 with code 2002: offset + limit past 10,000. */
export const offsetCapReached = (status: number, body: unknown) =>
  status === 400 && (body as { error?: { code?: number } } | undefined)?.error?.code === 2002;

export async function* incidentRecords(
  context: RecordsContext<IncidentsConfig, Record<string, never>>,
): AsyncGenerator<JsonObject> {
  const { config, http } = context;
  const previous = context.bookmark as IncidentsBookmark | undefined;
  const startedAt = Date.now();
  const seen = new Set<string>();
  let createdAt = previous?.created_at ?? previous?.value;
  const changesSince = previous?.changes_since;
  // Ids read at the newest creation time so far: a window restarted there (the offset cap) or the next
  // run (the list's `since` is inclusive) reads them again. Only a later run's new incidents are kept
  // for step 2, so a first full sync holds no set of every id.
  let atNewest = new Set<string>(
    previous?.created_at === undefined ? [] : ((previous.at_created as string[] | undefined) ?? []),
  );
  const bookmark = (): JsonObject => ({
    ...(createdAt === undefined ? {} : { created_at: createdAt, at_created: [...atNewest] }),
    // Until the first run is done, its own start is where the next run's changes begin.
    changes_since: changesSince ?? iso(startedAt),
  });

  const fromCreated = Date.parse(createdAt ?? config.start_date);
  for await (const incident of windowed(http, '/incidents', fromCreated, startedAt, CREATED_WINDOW, {
    time_zone: config.time_zone,
    sort_by: 'created_at:asc',
  })) {
    const id = String(incident.id);
    const created = String(incident.created_at);
    if (created === createdAt && atNewest.has(id)) continue;
    if (created !== createdAt) atNewest = new Set();
    atNewest.add(id);
    if (changesSince !== undefined) seen.add(id);
    if (createdAt === undefined || Date.parse(created) > Date.parse(createdAt)) createdAt = created;
    yield incident;
    context.advance(bookmark());
  }
  context.checkpoint();

  if (changesSince !== undefined) {
    const from = Date.parse(changesSince) - CLOCK_SKEW_MS;
    // Past this run's start too: a change in its very first moments is read now and again next run.
    for await (const entry of windowed(
      http,
      '/log_entries',
      from,
      startedAt + CLOCK_SKEW_MS,
      CHANGES_WINDOW,
      {
        time_zone: config.time_zone,
        'include[]': 'incidents',
      },
    )) {
      const named = entry.incident as JsonObject | undefined;
      const id = named?.id === undefined ? undefined : String(named.id);
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      // Included incidents are whole; a bare reference (an incident since deleted or merged) is fetched.
      const incident = named !== undefined && 'status' in named ? named : await fetchIncident(http, id);
      if (incident !== undefined) yield incident;
    }
  }
  context.advance({ ...bookmark(), changes_since: iso(startedAt) });
}

/**
 * The rows of a `since`/`until` endpoint from `from` to `to`, in windows, paged by offset. When a
 * window holds more than the offset cap allows, it restarts at the last row's `created_at`.
 */
async function* windowed(
  http: HttpClient,
  path: string,
  from: number,
  to: number,
  span: number,
  query: Record<string, string>,
): AsyncGenerator<JsonObject> {
  const collection = path.slice(1);
  for (let start = from; start < to; ) {
    const end = Math.min(start + span, to);
    let offset = 0;
    let last: number | undefined;
    for (;;) {
      let body: Record<string, unknown>;
      try {
        const response = await http.request({
          path,
          query: { ...query, since: iso(start), until: iso(end), limit: PAGE, offset },
        });
        body = response.body as Record<string, unknown>;
      } catch (error) {
        if (
          error instanceof HttpError &&
          offsetCapReached(error.status, error.body) &&
          last !== undefined &&
          last > start
        ) {
          start = last; // the rows at `last` are read again; incidents are upserted by id
          offset = 0;
          continue;
        }
        throw error;
      }
      const rows = (Array.isArray(body[collection]) ? body[collection] : []) as JsonObject[];
      for (const row of rows) {
        last = Date.parse(String(row.created_at));
        yield row;
      }
      if (body.more !== true || rows.length === 0) break;
      offset += rows.length;
    }
    start = end;
  }
}

async function fetchIncident(http: HttpClient, id: string): Promise<JsonObject | undefined> {
  try {
    const response = await http.request({ path: `/incidents/${encodeURIComponent(id)}` });
    return (response.body as { incident?: JsonObject }).incident;
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return undefined; // gone: nothing to update
    throw error;
  }
}
