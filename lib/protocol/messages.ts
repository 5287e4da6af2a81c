/**
 * The one internal shape every message format normalises to. Singer's `key_properties`, Stitch
 * Streams' `"key": true` and `key_fields` all become `keyProperties`; Stitch's `BOOKMARK` is a `STATE`.
 */

import { stringifyExact } from './exact-json.ts';

/** A JSON Schema object as streamers send it. Kept loose on purpose: taps send many dialects. */
export type JsonSchema = { readonly [keyword: string]: unknown };

export type JsonObject = { [key: string]: unknown };

export interface SchemaMessage {
  readonly type: 'SCHEMA';
  readonly stream: string;
  readonly schema: JsonSchema;
  readonly keyProperties: readonly string[];
  readonly bookmarkProperties?: readonly string[];
}

export interface RecordMessage {
  readonly type: 'RECORD';
  readonly stream: string;
  /** The record as plain JSON values: what validation and transforms see. */
  readonly record: JsonObject;
  /**
   * The same record with numbers that a double cannot hold kept as their exact text
   * (lossless-json `LosslessNumber`). Present only when the input line had such numbers;
   * loaders and writers use it so integers beyond 2^53 and long decimals survive untouched.
   */
  readonly exact?: JsonObject;
  readonly version?: number;
  readonly timeExtracted?: string;
  /**
   * The input line this record was parsed from. Loaders hand it to the warehouse as is, which is
   * much faster than re-encoding; anything that changes `record` must drop it.
   */
  readonly raw?: RawLine;
  /** Stitch Streams `key_fields` on a RECORD, when the schema did not mark keys. */
  readonly keyProperties?: readonly string[];
}

/** A message line as it was read. */
export interface RawLine {
  readonly text: string;
  /**
   * The same line as UTF-8, when the parser has it (a view of what it read): a loader writes these
   * bytes instead of encoding `text` again, a tenth of a DuckDB load's time.
   */
  readonly utf8?: Buffer;
}

export interface StateMessage {
  readonly type: 'STATE';
  readonly value: unknown;
}

export interface ActivateVersionMessage {
  readonly type: 'ACTIVATE_VERSION';
  readonly stream: string;
  readonly version: number;
}

export type Message = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;

/** A message with the 1-based line of the input it came from, for error messages. */
export interface ParsedMessage {
  readonly line: number;
  readonly message: Message;
}

/** Largest serialised bookmark we accept: DynamoDB items and Singer targets stay comfortable below it. */
export const MAX_BOOKMARK_BYTES = 1_048_576;

/**
 * Why a bookmark is refused, or undefined when it is fine. One rule for both sides: the chunk writer
 * refuses at staging what the persister would refuse at loading, so nothing is staged that can never load.
 */
export function bookmarkSizeProblem(value: unknown): string | undefined {
  const size = Buffer.byteLength(stringifyExact(value));
  return size > MAX_BOOKMARK_BYTES
    ? `the bookmark (STATE value) is ${size} bytes; a bookmark may be at most ${MAX_BOOKMARK_BYTES} bytes (1 MB). Keep per-partition bookmarks small or split the tap.`
    : undefined;
}
