/**
 * The Stitch Streams framing: a `stitchstream/0.1` line, header lines (`Content-Type: jsonline`),
 * a `--` line, then one message per line (JSON, or transit+json with `Content-Type: transit`). Keys are marked with `"key": true` on schema properties.
 */
import type { JsonSchema } from './messages.ts';
import { ProtocolError } from './protocol-error.ts';

export const STITCH_MAGIC = 'stitchstream/0.1';
export const STITCH_SEPARATOR = '--';
const HEADER_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

export type StitchContentType = 'jsonline' | 'transit';

/** Reads one header line: `done` at the separator, and the message encoding a Content-Type names. */
export function readStitchHeader(
  text: string,
  where: { source: string; line: number },
): { readonly done: boolean; readonly contentType?: StitchContentType } {
  const trimmed = text.trim();
  if (trimmed === STITCH_SEPARATOR) return { done: true };
  const colon = trimmed.indexOf(':');
  if (colon <= 0 || !HEADER_NAME.test(trimmed.slice(0, colon))) {
    throw new ProtocolError(
      `expected a header line "Name: value" or "--", received ${JSON.stringify(trimmed)}`,
      where,
    );
  }
  const name = trimmed.slice(0, colon).trim().toLowerCase();
  const value = trimmed
    .slice(colon + 1)
    .trim()
    .toLowerCase();
  if (name !== 'content-type') return { done: false };
  if (value !== 'jsonline' && value !== 'transit') {
    throw new ProtocolError(
      `Content-Type ${JSON.stringify(value)} is not supported; send "Content-Type: jsonline" (JSON, one message a line) or "Content-Type: transit" (transit+json)`,
      where,
    );
  }
  return { done: false, contentType: value };
}

/** Property names marked `"key": true` in a Stitch Streams schema, in declaration order. */
export function keysMarkedInSchema(schema: JsonSchema): string[] {
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null) return [];
  return Object.entries(properties as Record<string, unknown>)
    .filter(
      ([, property]) =>
        typeof property === 'object' && property !== null && (property as { key?: unknown }).key === true,
    )
    .map(([name]) => name);
}
