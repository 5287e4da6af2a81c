/**
 * What the pipeline, the `trib tap` command and the Lambda runtime need from a streamer. The
 * streamer SDK (defineStreamer/defineStream) builds these; a hand-written one is fine too.
 */

import type { EventInbox } from '../ingest/event-inbox.ts';
import type { JsonObject, JsonSchema, Message } from '../protocol/messages.ts';
import type { TokenStore } from './token-store.ts';

export interface StreamDescription {
  readonly name: string;
  readonly schema: JsonSchema;
  readonly keyProperties: readonly string[];
  readonly replicationMethod: 'INCREMENTAL' | 'FULL_TABLE';
  readonly replicationKey?: string;
}

export interface StreamerRunOptions {
  readonly config: JsonObject;
  /** The bookmark to resume from (a Singer STATE value); undefined for a first run. */
  readonly state?: unknown;
  /** Streams to sync; undefined means every stream. */
  readonly selectedStreams?: readonly string[];
  /** Epoch milliseconds: stop cleanly at the next STATE after this time (Lambda's time budget). */
  readonly deadline?: number;
  /** Called when the run stops early because of `deadline` (so the caller knows work is left). */
  readonly onDeadline?: (stop: { readonly resumeAt?: number }) => void;
  /** Log lines for people (stderr in `trib tap`). */
  readonly log?: (line: string) => void;
  /** Per stream, the properties to keep (from a catalog's field selection); keys are always kept. */
  readonly selectedFields?: Readonly<Record<string, readonly string[]>>;
  /**
   * A catalog's `replication-method` per stream: FULL_TABLE reads an incremental stream whole (a
   * resync of one stream); INCREMENTAL is honoured only where the stream has a replication key.
   */
  readonly replicationMethods?: Readonly<Record<string, 'FULL_TABLE' | 'INCREMENTAL'>>;
  /** The records a stream will read in this run, when its source says (for progress and an ETA). */
  readonly onTotal?: (stream: string, records: number) => void;
  /** Called once per stream at the end with its counts (records, requests, retries, waits, bytes). */
  readonly onMetrics?: (stream: string, metrics: Readonly<Record<string, number>>) => void;
  /**
   * Secrets the streamer may rewrite, by name (rotated OAuth refresh tokens): Secrets Manager in AWS,
   * where the function may write exactly the secrets its pipeline names; absent locally.
   */
  readonly secretStore?: (name: string) => TokenStore;
  /** An ingest tap's inbox: the events its endpoint accepted (read by the `ingest` streamer only). */
  readonly pushedEvents?: EventInbox;
  /** HTTP settings that tests override (a fake clock, no real sleeping). */
  readonly http?: {
    readonly sleep?: (ms: number) => Promise<void>;
    readonly now?: () => number;
    readonly backoffBaseMs?: number;
  };
}

export interface Streamer {
  readonly name: string;
  readonly description: string;
  readonly configSchema: JsonSchema;
  readonly streams: readonly StreamDescription[];
  /** Messages in Singer order: each stream's SCHEMA before its RECORDs, STATE after what it covers. */
  run(options: StreamerRunOptions): AsyncIterable<Message>;
}

export class StreamerConfigError extends Error {
  override readonly name = 'StreamerConfigError';
}
