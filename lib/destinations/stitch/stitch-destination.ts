/**
 * The Stitch Import API as a destination (`destination: { type: stitch }`, `persist-stitch`): each
 * stream's records go to `POST /v2/import/batch`, one table per request, as `upsert` messages with a
 * `sequence` that only grows (epoch microseconds and a counter, never below the last one sent for the
 * tap), split under the 4 MB and 20,000-record limits, and split again when Stitch answers 413. 429 and
 * 5xx are retried with backoff; any other 4xx stops the load and shows Stitch's answer. A chunk counts
 * as delivered, and its bookmark is committed, only after every batch of it is accepted (201 or 202).
 * Which chunks were delivered is kept in the delivery ledger, so a replay sends nothing twice.
 */
import type { ChunkPosition } from '../../chunks/chunk-position.ts';
import { EXTRA_PROPERTY } from '../../columns/column-plan.ts';
import { stringifyExact } from '../../protocol/exact-json.ts';
import type { JsonSchema } from '../../protocol/messages.ts';
import type { Auth } from '../../streamer/auth.ts';
import { bearerToken } from '../../streamer/auth.ts';
import { HttpClient, HttpError } from '../../streamer/http-client.ts';
import { DeliveryLedger } from '../delivery-ledger.ts';
import {
  type Destination,
  DestinationLoadError,
  type LedgerEntry,
  type LoadTransaction,
  type RowToLoad,
  type StreamDefinition,
  type StreamLoadCounts,
} from '../destination.ts';

export const STITCH_BASE_URLS = {
  'us-east-1': 'https://api.stitchdata.com',
  'eu-central-1': 'https://api.eu-central-1.stitchdata.com',
} as const;

export interface StitchOptions {
  readonly token: string;
  readonly clientId: string;
  readonly baseUrl: string;
  readonly ledgerPath: string;
  /** Request body limit. @default 4 MB, as documented */
  readonly maxBatchBytes?: number;
  /** Messages per request. @default 20,000 */
  readonly maxBatchRecords?: number;
  /** HTTP settings tests override (no real sleeping). */
  readonly http?: { readonly sleep?: (ms: number) => Promise<void>; readonly backoffBaseMs?: number };
  readonly log?: (line: string) => void;
}

const MAX_SEQUENCE = 9223372036854775807n;

export class StitchDestination implements Destination {
  readonly description: string;
  private readonly http: HttpClient;

  constructor(private readonly options: StitchOptions) {
    this.description = `Stitch Import API at ${options.baseUrl} (client ${options.clientId}; delivery ledger in ${options.ledgerPath})`;
    const auth: Auth = bearerToken(options.token);
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      auth,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      redact: (text) => text.replaceAll(options.token, '[token]'),
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.http?.sleep === undefined ? {} : { sleep: options.http.sleep }),
      ...(options.http?.backoffBaseMs === undefined ? {} : { backoffBaseMs: options.http.backoffBaseMs }),
    });
  }

  async begin(tap: string): Promise<LoadTransaction> {
    return new StitchTransaction(
      this.http,
      this.options,
      await DeliveryLedger.open(this.options.ledgerPath, tap),
    );
  }

  ledger(tap: string): Promise<LedgerEntry[]> {
    return DeliveryLedger.entries(this.options.ledgerPath, tap);
  }

  async close(): Promise<void> {}
}

interface PendingTable {
  readonly definition: StreamDefinition;
  messages: string[];
  bytes: number;
}

class StitchTransaction implements LoadTransaction {
  private readonly tables = new Map<string, PendingTable>();
  private position: ChunkPosition | undefined;
  private counts: Record<string, StreamLoadCounts> = {};
  private sequence: bigint;
  private delivered = false;
  private readonly maxBytes: number;
  private readonly maxRecords: number;

  constructor(
    private readonly http: HttpClient,
    private readonly options: StitchOptions,
    private readonly ledger: DeliveryLedger,
  ) {
    this.sequence = ledger.lastSequence;
    this.maxBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.maxRecords = options.maxBatchRecords ?? 20_000;
  }

  async loaded(position: ChunkPosition) {
    return this.ledger.loaded(position);
  }

  async ledgerIsEmpty(): Promise<boolean> {
    return this.ledger.isEmpty();
  }

  startChunk(position: ChunkPosition): void {
    this.position = position;
    this.counts = {};
  }

  async defineStream(definition: StreamDefinition): Promise<void> {
    const known = this.tables.get(definition.stream);
    if (known !== undefined) await this.flush(known); // the batches before a schema change keep theirs
    this.tables.set(definition.stream, { definition, messages: [], bytes: 0 });
  }

  async write(stream: string, row: RowToLoad): Promise<void> {
    const table = this.tables.get(stream);
    if (table === undefined) throw new Error(`stream ${stream}: write before defineStream`);
    const { [EXTRA_PROPERTY]: _extra, ...data } = row.values;
    const message = `{"action":"upsert","sequence":${this.nextSequence()},"data":${stringifyExact(data)}}`;
    const bytes = Buffer.byteLength(message) + 1;
    if (
      table.messages.length > 0 &&
      (table.bytes + bytes > this.budget(table) || table.messages.length >= this.maxRecords)
    )
      await this.flush(table);
    table.messages.push(message);
    table.bytes += bytes;
    const counts = this.counts[stream] ?? { inserted: 0, updated: 0, deleted: 0 };
    counts.inserted += 1;
    this.counts[stream] = counts;
  }

  async activateVersion(stream: string): Promise<void> {
    // The Import API documents no way to retire the rows of an older table version.
    this.options.log?.(
      `stitch: ${stream}: ACTIVATE_VERSION is not sent; rows of earlier versions stay in Stitch`,
    );
  }

  async finishChunk(chunk: { readonly bookmark: unknown; readonly records: number }) {
    if (this.position === undefined) throw new Error('finishChunk before startChunk');
    for (const table of this.tables.values()) await this.flush(table);
    const counts = this.counts;
    this.ledger.add(
      this.position,
      { bookmark: chunk.bookmark, records: chunk.records, counts },
      this.sequence,
    );
    this.delivered = true;
    return counts;
  }

  async commit(): Promise<void> {
    try {
      if (this.delivered) await this.ledger.save();
    } finally {
      await this.ledger.close();
    }
  }

  async rollback(): Promise<void> {
    await this.ledger.close();
  }

  /** Strictly increasing, and never below what was sent before for this tap, whatever the clock says. */
  private nextSequence(): string {
    const now = BigInt(Date.now()) * 1000n;
    this.sequence = now > this.sequence ? now : this.sequence + 1n;
    if (this.sequence > MAX_SEQUENCE) throw new DestinationLoadError('the Stitch sequence would pass 2^63-1');
    return String(this.sequence);
  }

  private envelope(table: PendingTable): { head: string; tail: string } {
    const keys = table.definition.keyProperties;
    const schema: JsonSchema = { properties: table.definition.schema.properties ?? {} };
    const head = `{"table_name":${JSON.stringify(table.definition.stream)},"schema":${JSON.stringify(schema)},${keys.length === 0 ? '' : `"key_names":${JSON.stringify(keys)},`}"messages":[`;
    return { head, tail: ']}' };
  }

  private budget(table: PendingTable): number {
    const { head, tail } = this.envelope(table);
    return this.maxBytes - Buffer.byteLength(head) - tail.length;
  }

  private async flush(table: PendingTable): Promise<void> {
    if (table.messages.length === 0) return;
    const messages = table.messages;
    table.messages = [];
    table.bytes = 0;
    await this.send(table, messages);
  }

  /** One batch request; a 413 splits it in halves, each sent on its own. */
  private async send(table: PendingTable, messages: readonly string[]): Promise<void> {
    const { head, tail } = this.envelope(table);
    try {
      await this.http.request({
        path: '/v2/import/batch',
        method: 'POST',
        rawBody: `${head}${messages.join(',')}${tail}`,
      });
    } catch (error) {
      if (error instanceof HttpError && error.status === 413 && messages.length > 1) {
        const half = Math.ceil(messages.length / 2);
        await this.send(table, messages.slice(0, half));
        await this.send(table, messages.slice(half));
        return;
      }
      if (error instanceof HttpError)
        throw new DestinationLoadError(
          `stream ${table.definition.stream}: Stitch refused a batch of ${messages.length} records with HTTP ${error.status}: ${JSON.stringify(error.body).slice(0, 500)}. ${error.status === 401 ? 'Check the token, its region (base URL) and that the Import API integration is not paused.' : 'Fix the data or the schema; the chunk is not recorded as delivered and is sent again on the next try.'}`,
        );
      throw error;
    }
  }
}
