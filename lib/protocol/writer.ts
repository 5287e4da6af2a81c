/**
 * Serialises messages. Streamers write headerless Singer by default, which any Singer target reads;
 * the Stitch Streams framing is written on request.
 */
import { stringifyExact } from './exact-json.ts';
import type { JsonSchema, Message } from './messages.ts';
import { STITCH_MAGIC, STITCH_SEPARATOR } from './stitch-streams.ts';

export type MessageFormat = 'singer' | 'stitch';

export const MESSAGE_FORMATS: readonly MessageFormat[] = ['singer', 'stitch'];

/** The lines that open a stream in `format` (empty for Singer). */
export function formatHeader(format: MessageFormat): string {
  return format === 'stitch' ? `${STITCH_MAGIC}\nContent-Type: jsonline\n${STITCH_SEPARATOR}\n` : '';
}

/** One message as one line, newline included. */
export function formatMessage(message: Message, format: MessageFormat = 'singer'): string {
  return `${serialise(message, format)}\n`;
}

function serialise(message: Message, format: MessageFormat): string {
  switch (message.type) {
    case 'SCHEMA': {
      if (format === 'stitch') {
        return JSON.stringify({
          type: 'SCHEMA',
          stream: message.stream,
          schema: markKeys(message.schema, message.keyProperties),
          ...(message.bookmarkProperties === undefined
            ? {}
            : { bookmark_properties: message.bookmarkProperties }),
        });
      }
      return JSON.stringify({
        type: 'SCHEMA',
        stream: message.stream,
        schema: message.schema,
        key_properties: message.keyProperties,
        ...(message.bookmarkProperties === undefined
          ? {}
          : { bookmark_properties: message.bookmarkProperties }),
      });
    }
    case 'RECORD': {
      const version = message.version === undefined ? '' : `,"version":${JSON.stringify(message.version)}`;
      const record =
        message.exact === undefined ? JSON.stringify(message.record) : stringifyExact(message.exact);
      const tail =
        message.timeExtracted === undefined
          ? ''
          : `,"time_extracted":${JSON.stringify(message.timeExtracted)}`;
      return `{"type":"RECORD","stream":${JSON.stringify(message.stream)}${version},"record":${record}${tail}}`;
    }
    case 'STATE':
      return stringifyExact({ type: format === 'stitch' ? 'BOOKMARK' : 'STATE', value: message.value });
    case 'ACTIVATE_VERSION':
      return JSON.stringify({ type: 'ACTIVATE_VERSION', stream: message.stream, version: message.version });
  }
}

function markKeys(schema: JsonSchema, keys: readonly string[]): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties === undefined || keys.length === 0) return schema;
  const marked: Record<string, JsonSchema> = {};
  for (const [name, property] of Object.entries(properties)) {
    marked[name] = keys.includes(name) ? { ...property, key: true } : property;
  }
  return { ...schema, properties: marked };
}
