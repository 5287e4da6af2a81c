/**
 * `ingest`: the streamer of a push tap. It reads the events the ingest endpoint accepted into the tap's
 * inbox, oldest first, and its bookmark is the last inbox entry it read. Entries younger than the
 * inbox's settle time wait for the next run (a write that took its name earlier may still be landing).
 * An entry is deleted only once a staged chunk holds it: at the start of a later run, when the bookmark
 * it starts from (staged or committed) is past it. Events are keyed by `event_id`, so a batch a client
 * sent twice (a lost response, a resubmitted spool) is one row.
 */
import { mayHoldInexactNumber, parseExact } from '../../protocol/exact-json.ts';
import type { JsonObject, Message } from '../../protocol/messages.ts';
import { type Streamer, StreamerConfigError, type StreamerRunOptions } from '../../streamer/streamer.ts';
import { eventsSchema } from './events-schema.ts';

const STREAM = 'events';
/** Records between STATE messages, so a chunk can be cut inside a long backlog. */
const STATE_EVERY = 5_000;

interface InboxBookmark {
  readonly after?: string;
}

export const ingestStreamer: Streamer = {
  name: 'ingest',
  description:
    'Events pushed to the ingest endpoint (the Initial State Events API); declared by ingest: in the pipeline file',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      settle_seconds: {
        type: 'number',
        minimum: 0,
        description:
          "wait this long before reading an accepted request (default: the inbox's own settle time)",
      },
    },
  },
  streams: [
    { name: STREAM, schema: eventsSchema, keyProperties: ['event_id'], replicationMethod: 'INCREMENTAL' },
  ],
  run: readInbox,
};

async function* readInbox(options: StreamerRunOptions): AsyncGenerator<Message> {
  const inbox = options.pushedEvents;
  if (inbox === undefined)
    throw new StreamerConfigError(
      "streamer ingest reads pushed events from an ingest tap's inbox; run it as a tap of a pipeline with an ingest: section (trib run, trib ingest serve), not on its own",
    );
  if (options.selectedStreams !== undefined && !options.selectedStreams.includes(STREAM)) return;
  const after = (options.state as InboxBookmark | undefined)?.after;
  const settleMs =
    (options.config as { settle_seconds?: number }).settle_seconds === undefined
      ? inbox.settleMs
      : (options.config as { settle_seconds: number }).settle_seconds * 1000;
  const entries = await inbox.list();
  const consumed = after === undefined ? [] : entries.filter((entry) => entry.name <= after);
  if (consumed.length > 0) {
    await inbox.remove(consumed.map((entry) => entry.name));
    options.log?.(
      `ingest: removed ${consumed.length} inbox entr${consumed.length === 1 ? 'y' : 'ies'} already staged`,
    );
  }
  const cutoff = Date.now() - settleMs;
  const ready = entries.filter(
    (entry) => (after === undefined || entry.name > after) && entry.receivedAt < cutoff,
  );
  yield { type: 'SCHEMA', stream: STREAM, schema: eventsSchema, keyProperties: ['event_id'] };
  let sinceState = 0;
  let last: string | undefined;
  let records = 0;
  for (const entry of ready) {
    if (options.deadline !== undefined && Date.now() > options.deadline && last !== undefined) {
      options.onDeadline?.({});
      break;
    }
    const text = await inbox.read(entry.name);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as JsonObject;
      const exact = mayHoldInexactNumber(line) ? (parseExact(line) as JsonObject | undefined) : undefined;
      yield { type: 'RECORD', stream: STREAM, record, ...(exact === undefined ? {} : { exact }) };
      sinceState += 1;
      records += 1;
    }
    last = entry.name;
    if (sinceState >= STATE_EVERY) {
      yield { type: 'STATE', value: { after: last } };
      sinceState = 0;
    }
  }
  if (last !== undefined && sinceState > 0) yield { type: 'STATE', value: { after: last } };
  options.onMetrics?.(STREAM, {
    records,
    requests: ready.length,
    waiting: entries.length - consumed.length - ready.length,
  });
}
