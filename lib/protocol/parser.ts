/**
 * The one streaming parser for every message format we read: headerless Singer and the Stitch
 * Streams framing (`stitchstream/0.1` header, `Content-Type`, a `--` line, then messages).
 * It reads line by line and never holds the whole input.
 */
import { isUtf8 } from 'node:buffer';
import { mayHoldInexactNumber, parseExact, stringifyExact } from './exact-json.ts';
import { readLineBatches, type TextLine } from './line-reader.ts';
import {
  bookmarkSizeProblem,
  type JsonObject,
  type JsonSchema,
  type Message,
  type ParsedMessage,
  type RawLine,
  type RecordMessage,
} from './messages.ts';
import { ProtocolError } from './protocol-error.ts';
import { keysMarkedInSchema, readStitchHeader, STITCH_MAGIC } from './stitch-streams.ts';
import { transitToJsonValue } from './transit.ts';

export interface ParseOptions {
  /** Names the input in errors: a file path, a chunk key, `stdin`. */
  readonly source: string;
}

/**
 * @example
 * for await (const { line, message } of parseMessages(process.stdin, { source: 'stdin' })) { ... }
 */
export async function* parseMessages(
  input: AsyncIterable<Buffer | string>,
  options: ParseOptions,
): AsyncGenerator<ParsedMessage> {
  for await (const batch of parseMessageBatches(input, options)) yield* batch;
}

/**
 * The messages each piece of input completes, a list at a time: a reader that handles them in a
 * plain loop pays for one promise per piece instead of one per message.
 */
export async function* parseMessageBatches(
  input: AsyncIterable<Buffer | string>,
  options: ParseOptions,
): AsyncGenerator<readonly ParsedMessage[]> {
  const { source } = options;
  const schemas = new Set<string>();
  const batches = readLineBatches(input)[Symbol.asyncIterator]();
  let inHeader = false;
  let stitch = false;
  let transit = false;
  let firstContent = true;
  for (;;) {
    let next: IteratorResult<readonly TextLine[]>;
    try {
      next = await batches.next();
    } catch (error) {
      throw new ProtocolError('could not read the input', { source, line: 0, cause: error });
    }
    if (next.done) break;
    const parsed: ParsedMessage[] = [];
    for (const { number, text, bytes } of next.value) {
      if (text.trim() === '') continue;
      if (firstContent) {
        firstContent = false;
        if (text.trim() === STITCH_MAGIC) {
          inHeader = true;
          stitch = true;
          continue;
        }
      }
      if (inHeader) {
        const header = readStitchHeader(text, { source, line: number });
        inHeader = !header.done;
        if (header.contentType !== undefined) transit = header.contentType === 'transit';
        continue;
      }
      // A transit line is read as the JSON it stands for; from there every message is read one way.
      const json = transit ? transitLineAsJson(text, source, number) : text;
      const line: RawLine = transit ? { text: json } : isUtf8(bytes) ? { text, utf8: bytes } : { text };
      const message = toMessage(parseJsonLine(json, source, number), line, source, number, schemas, stitch);
      parsed.push({ line: number, message });
    }
    if (parsed.length > 0) yield parsed;
  }
  if (inHeader) {
    throw new ProtocolError(
      'the Stitch Streams header never ended: expected a "--" line before the messages',
      {
        source,
        line: 0,
      },
    );
  }
}

function transitLineAsJson(text: string, source: string, line: number): string {
  try {
    return stringifyExact(transitToJsonValue(text));
  } catch (error) {
    throw new ProtocolError(
      `bad transit: ${(error as Error).message}; expected one transit+json message per line, e.g. ["^ ","type","STATE","value",1]`,
      { source, line, cause: error },
    );
  }
}

function parseJsonLine(text: string, source: string, line: number): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`bad JSON: ${(error as Error).message}; expected one JSON message per line`, {
      source,
      line,
      cause: error,
    });
  }
  if (!isObject(value)) {
    throw new ProtocolError(`expected a JSON object with a "type", received ${describe(value)}`, {
      source,
      line,
    });
  }
  return value;
}

function toMessage(
  raw: JsonObject,
  /** The message's JSON line (for transit, the JSON it stands for). */
  input: RawLine,
  source: string,
  line: number,
  schemas: Set<string>,
  /** Stitch Streams framing: its 1 MB bookmark limit applies. Singer states may be larger. */
  stitch: boolean,
): Message {
  const where = { source, line };
  switch (raw.type) {
    case 'SCHEMA': {
      const stream = requireStream(raw, where);
      const schema = raw.schema;
      if (!isObject(schema)) {
        throw new ProtocolError(
          `SCHEMA for stream "${stream}": "schema" must be a JSON Schema object, received ${describe(schema)}`,
          where,
        );
      }
      const types = Array.isArray(schema.type)
        ? schema.type
        : schema.type === undefined
          ? ['object']
          : [schema.type];
      if (!types.includes('object'))
        throw new ProtocolError(
          `SCHEMA for stream "${stream}": a stream's records are objects, but its schema has type ${describe(schema.type)}; give it "type": "object" with its properties`,
          where,
        );
      const keyProperties =
        raw.key_properties === undefined
          ? keysMarkedInSchema(schema)
          : stringList(raw, 'key_properties', where);
      schemas.add(stream);
      const bookmarkProperties =
        raw.bookmark_properties === undefined ? undefined : stringList(raw, 'bookmark_properties', where);
      return {
        type: 'SCHEMA',
        stream,
        schema: schema as JsonSchema,
        keyProperties,
        ...(bookmarkProperties === undefined ? {} : { bookmarkProperties }),
      };
    }
    case 'RECORD': {
      const stream = requireStream(raw, where);
      if (!schemas.has(stream)) {
        throw new ProtocolError(
          `RECORD for stream "${stream}" before its SCHEMA; send a SCHEMA message for "${stream}" first`,
          where,
        );
      }
      const record = raw.record;
      if (!isObject(record)) {
        throw new ProtocolError(
          `RECORD for stream "${stream}": "record" must be a JSON object, received ${describe(record)}`,
          where,
        );
      }
      const exact = mayHoldInexactNumber(input.text) ? exactRecord(input.text) : undefined;
      const version = raw.version;
      if (version !== undefined && typeof version !== 'number') {
        throw new ProtocolError(
          `RECORD for stream "${stream}": "version" must be a number, received ${describe(version)}`,
          where,
        );
      }
      const timeExtracted = typeof raw.time_extracted === 'string' ? raw.time_extracted : undefined;
      const keyProperties = raw.key_fields === undefined ? undefined : stringList(raw, 'key_fields', where);
      // Built field by field: this runs once a record, and spreads of optional fields cost more.
      const message: { -readonly [K in keyof RecordMessage]: RecordMessage[K] } = {
        type: 'RECORD',
        stream,
        record,
      };
      if (exact !== undefined) message.exact = exact;
      if (version !== undefined) message.version = version;
      if (timeExtracted !== undefined) message.timeExtracted = timeExtracted;
      if (keyProperties !== undefined) message.keyProperties = keyProperties;
      message.raw = input;
      return message;
    }
    case 'STATE':
    case 'BOOKMARK': {
      if (!('value' in raw)) throw new ProtocolError(`${raw.type} without a "value"`, where);
      const tooLarge = stitch || raw.type === 'BOOKMARK' ? bookmarkSizeProblem(raw.value) : undefined;
      if (tooLarge !== undefined) throw new ProtocolError(`${raw.type}: ${tooLarge}`, where);
      // A since_id of 19 digits or an LSN must reach the tap again as written, not as a double.
      const exact = mayHoldInexactNumber(input.text) ? parseExact(input.text) : undefined;
      return { type: 'STATE', value: isObject(exact) ? exact.value : raw.value };
    }
    case 'ACTIVATE_VERSION': {
      const stream = requireStream(raw, where);
      if (typeof raw.version !== 'number') {
        throw new ProtocolError(
          `ACTIVATE_VERSION for stream "${stream}": "version" must be a number, received ${describe(raw.version)}`,
          where,
        );
      }
      return { type: 'ACTIVATE_VERSION', stream, version: raw.version };
    }
    default:
      throw new ProtocolError(
        `unknown message type ${describe(raw.type)}; expected SCHEMA, RECORD, STATE, BOOKMARK or ACTIVATE_VERSION`,
        where,
      );
  }
}

function exactRecord(text: string): JsonObject | undefined {
  const exact = parseExact(text);
  return isObject(exact) && isObject(exact.record) ? exact.record : undefined;
}

function requireStream(raw: JsonObject, where: { source: string; line: number }): string {
  if (typeof raw.stream !== 'string' || raw.stream === '') {
    throw new ProtocolError(
      `${String(raw.type)} without a "stream": expected a non-empty string, received ${describe(raw.stream)}`,
      where,
    );
  }
  return raw.stream;
}

function stringList(raw: JsonObject, field: string, where: { source: string; line: number }): string[] {
  const value = raw[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ProtocolError(
      `"${field}" must be a list of property names, received ${describe(value)}`,
      where,
    );
  }
  return value as string[];
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, safe rendering of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
