/**
 * What a replication strategy gets to sync one partition of one stream: the stream, its bookmark, the
 * API, and the ways to emit records and STATE. The strategy owns its bookmark's shape; the streamer
 * owns everything around it (streams, partitions, children, failures, the deadline).
 */
import type { JsonObject, Message } from '../../protocol/messages.ts';
import type { StreamContext, StreamSpec } from '../define-stream.ts';
import type { HttpRequest, HttpResponse } from '../http-client.ts';

export interface PartitionSync<Config> {
  // biome-ignore lint/suspicious/noExplicitAny: streams differ in their partition types
  readonly stream: StreamSpec<Config, any>;
  readonly context: StreamContext<Config, unknown>;
  /** This partition's bookmark from the last STATE, if any. */
  readonly previous: JsonObject | undefined;
  /** Where a first sync of an incremental stream starts (the config's `start_date`). */
  readonly startDate: string | undefined;
  /** Sets this partition's bookmark for the next STATE (a no-op when the stream only drives children). */
  setBookmark(bookmark: JsonObject): void;
  /** Emits records (and syncs child streams for them). */
  emit(records: readonly JsonObject[]): AsyncGenerator<Message, void, undefined>;
  /** Emits a STATE; stops the run there when the deadline has passed. */
  checkpoint(): Generator<Message, void, undefined>;
  /** Called before the partition's last STATE, so it can point the run at what comes next. */
  beforeFinalCheckpoint(): void;
  /** One page (an answer the stream treats as empty comes back with no records). */
  fetchPage(request: HttpRequest): Promise<HttpResponse>;
  /** A response body's records, parsed and shaped by the stream. */
  recordsOf(body: unknown): JsonObject[];
}

/** A replication method: syncs one partition, emitting records and STATE. */
export type SyncStrategy = <Config>(sync: PartitionSync<Config>) => AsyncGenerator<Message, void, undefined>;
