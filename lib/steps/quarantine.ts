/**
 * The records `validate` set aside, read from the warehouse, and replayed once fixed. A replay runs
 * each pending record through the tap's steps again, from the step that set it aside (so it is checked
 * again, with today's pipeline), and loads what now passes in one chunk together with the rows that
 * mark those records replayed: both land in one transaction, or neither does, so a record is replayed
 * once, however often the command runs. What still fails stays pending.
 */
import { Readable } from 'node:stream';
import { sanitizeIdentifier } from '../columns/identifiers.ts';
import type { Destination } from '../destinations/destination.ts';
import { DuckDbDestination } from '../destinations/duckdb/duckdb-destination.ts';
import { PostgresDestination } from '../destinations/postgres/postgres-destination.ts';
import { quoteIdentifier, quoteLiteral } from '../destinations/sql-text.ts';
import { loadChunks } from '../persister/load-chunks.ts';
import type { TapConfig } from '../pipeline/pipeline-config.ts';
import { streamerOf } from '../pipeline/streamer-of.ts';
import type { JsonObject, Message } from '../protocol/messages.ts';
import { parseMessageBatches } from '../protocol/parser.ts';
import { formatMessage } from '../protocol/writer.ts';
import { prepareSteps, QUARANTINE_SUFFIX, quarantineSchemaMessage, quarantineTableOf } from './run-steps.ts';

export interface QuarantineRow {
  readonly quarantine_id: string;
  readonly stream: string;
  readonly source_stream: string;
  readonly step: number;
  readonly record: JsonObject;
  readonly reason: string;
  readonly run: string;
  readonly quarantined_at: string;
  readonly replayed_at: string | null;
}

export class QuarantineError extends Error {
  override readonly name = 'QuarantineError';
}

/** Every quarantined record of a tap in a DuckDB or PostgreSQL warehouse, oldest first. */
export async function readQuarantine(destination: Destination, tap: string): Promise<QuarantineRow[]> {
  const query = queryOf(destination);
  const schema =
    destination instanceof PostgresDestination ? destination.schemaOf(tap) : sanitizeIdentifier(tap);
  // Filtered here, not with LIKE, where the suffix's `_` would match any character.
  const tables = (
    await query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteLiteral(schema)} ORDER BY table_name`,
    )
  ).filter(({ table_name: table }) => String(table).endsWith(QUARANTINE_SUFFIX));
  const rows: QuarantineRow[] = [];
  for (const { table_name: table } of tables) {
    const found = await query(
      `SELECT quarantine_id, stream, source_stream, step, CAST(record AS VARCHAR) AS record, reason, run, CAST(quarantined_at AS VARCHAR) AS quarantined_at, CAST(replayed_at AS VARCHAR) AS replayed_at FROM ${quoteIdentifier(schema)}.${quoteIdentifier(String(table))} ORDER BY quarantined_at, quarantine_id`,
    );
    for (const row of found)
      rows.push({
        quarantine_id: String(row.quarantine_id),
        stream: String(row.stream),
        source_stream: String(row.source_stream),
        step: Number(row.step),
        record: JSON.parse(String(row.record)) as JsonObject,
        reason: String(row.reason),
        run: String(row.run),
        quarantined_at: isoOf(String(row.quarantined_at)),
        replayed_at:
          row.replayed_at === null || row.replayed_at === undefined ? null : isoOf(String(row.replayed_at)),
      });
  }
  return rows;
}

/** A timestamp as both warehouses print one (`2026-12-02 02:35:01.123+00`), as an ISO date-time. */
function isoOf(text: string): string {
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? text : new Date(parsed).toISOString();
}

function queryOf(destination: Destination): (sql: string) => Promise<Record<string, unknown>[]> {
  if (destination instanceof DuckDbDestination || destination instanceof PostgresDestination)
    return (sql) => destination.query(sql);
  throw new QuarantineError(
    `${destination.description}: quarantined records are read from DuckDB or PostgreSQL only`,
  );
}

export interface ReplayOutcome {
  readonly replayed: number;
  readonly stillFailing: readonly { readonly row: QuarantineRow; readonly reason: string }[];
  readonly loaded: number;
}

/** Replays a tap's pending quarantined records (of one stream, when given). */
export async function replayQuarantine(options: {
  readonly tap: TapConfig;
  readonly destination: Destination;
  readonly stream?: string;
  readonly log?: (line: string) => void;
}): Promise<ReplayOutcome> {
  const { tap } = options;
  const pending = (await readQuarantine(options.destination, tap.name)).filter(
    (row) =>
      row.replayed_at === null &&
      (options.stream === undefined || row.stream === options.stream || row.source_stream === options.stream),
  );
  if (pending.length === 0) return { replayed: 0, stillFailing: [], loaded: 0 };
  const descriptions = new Map(streamerOf(tap).streams.map((stream) => [stream.name, stream]));
  const run = `quarantine-replay-${new Date().toISOString().replaceAll(/[-:.]/g, '')}`;
  const prepared = await prepareSteps(tap.steps, {
    tap: tap.name,
    run: () => run,
    log: options.log ?? (() => {}),
  });
  const chunk: Message[] = [];
  const replayed: QuarantineRow[] = [];
  const stillFailing: { row: QuarantineRow; reason: string }[] = [];
  let loaded = 0;
  for (const row of pending) {
    const description = descriptions.get(row.source_stream);
    if (description === undefined)
      throw new QuarantineError(
        `quarantined record ${row.quarantine_id}: its stream ${row.source_stream} is not one the streamer of tap ${tap.name} describes, so its schema is unknown`,
      );
    async function* source(): AsyncGenerator<Message> {
      yield {
        type: 'SCHEMA',
        stream: description?.name ?? row.source_stream,
        schema: description?.schema ?? {},
        keyProperties: description?.keyProperties ?? [],
      };
      yield { type: 'RECORD', stream: row.source_stream, record: row.record };
    }
    const out: Message[] = [];
    for await (const message of prepared.apply(source(), { recordsFrom: Math.max(0, row.step - 1) }))
      out.push(message);
    const again = out.find(
      (message) => message.type === 'RECORD' && message.stream.endsWith(QUARANTINE_SUFFIX),
    );
    if (again !== undefined && again.type === 'RECORD') {
      stillFailing.push({ row, reason: String(again.record.reason) });
      continue;
    }
    for (const message of out) {
      if (message.type !== 'SCHEMA' && message.type !== 'RECORD') continue;
      if (message.stream.endsWith(QUARANTINE_SUFFIX)) continue;
      chunk.push(message);
      if (message.type === 'RECORD') loaded += 1;
    }
    replayed.push(row);
  }
  if (replayed.length > 0) {
    // The rows that mark the records replayed go in the same chunk, so they commit with them.
    for (const stream of new Set(replayed.map((row) => row.stream)))
      chunk.push(quarantineSchemaMessage(quarantineTableOf(stream)));
    const at = new Date().toISOString();
    for (const row of replayed) {
      chunk.push({
        type: 'RECORD',
        stream: quarantineTableOf(row.stream),
        record: { ...row, replayed_at: at },
      });
    }
    const text = chunk.map((message) => formatMessage(message, 'singer')).join('');
    await loadChunks(
      tap.name,
      [
        {
          tap: tap.name,
          run,
          seq: 0,
          previous: 'unchained',
          source: `quarantine replay of tap ${tap.name}`,
          messages: () =>
            parseMessageBatches(Readable.from([text]), {
              source: `quarantine replay of tap ${tap.name}`,
            }),
        },
      ],
      { destination: options.destination },
    );
  }
  return { replayed: replayed.length, stillFailing, loaded };
}
