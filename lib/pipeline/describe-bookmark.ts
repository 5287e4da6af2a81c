/**
 * A bookmark as people read it: one line per stream (`issues  updated_at 2024-06-01T10:00:00Z`)
 * rather than a JSON blob cut to fit. Knows the SDK's shape (`bookmarks.<stream>.value`, full-table
 * versions, per-partition positions) and the common Singer shapes; anything else is shown as compact
 * JSON per stream, or for the whole bookmark.
 */
import { stringifyExact } from '../protocol/exact-json.ts';
import { isObject } from '../protocol/parser.ts';

const WIDTH = 80;

/** Each stream's position, or undefined when the bookmark has no per-stream shape. */
export function streamPositions(bookmark: unknown): Map<string, string> | undefined {
  if (!isObject(bookmark) || !isObject(bookmark.bookmarks)) return undefined;
  const positions = new Map<string, string>();
  for (const [stream, entry] of Object.entries(bookmark.bookmarks)) positions.set(stream, positionOf(entry));
  return positions;
}

function positionOf(entry: unknown): string {
  if (!isObject(entry)) return cut(stringifyExact(entry));
  if (typeof entry.value === 'string' || typeof entry.value === 'number') return `up to ${entry.value}`;
  if (typeof entry.version === 'number')
    return entry.in_progress === true ? 'full pass in progress' : 'last full pass complete';
  for (const key of ['replication_key_value', 'since', 'updated_at', 'cursor'])
    if (typeof entry[key] === 'string' || typeof entry[key] === 'number') return `up to ${entry[key]}`;
  if (isObject(entry.partitions)) {
    const partitions = Object.values(entry.partitions);
    if (partitions.length === 1) return cut(stringifyExact(partitions[0]));
    return `${partitions.length} partitions`;
  }
  return cut(stringifyExact(entry));
}

function cut(text: string): string {
  return text.length > WIDTH ? `${text.slice(0, WIDTH - 1)}…` : text;
}

/** Lines for a report or status: per stream when it can, `before → after` when both are given. */
export function bookmarkLines(after: unknown, before?: unknown): string[] {
  const now = streamPositions(after);
  const then = before === undefined ? undefined : streamPositions(before);
  if (now === undefined) {
    const text = after === undefined ? '(none)' : cut(stringifyExact(after));
    return [before === undefined ? text : `${describeWhole(before)} → ${text}`];
  }
  const width = Math.max(0, ...[...now.keys()].map((stream) => stream.length));
  return [...now].map(([stream, position]) => {
    const previous = then?.get(stream);
    const moved = before === undefined || previous === position ? '' : ` (was ${previous ?? 'none'})`;
    return `${stream.padEnd(width)}  ${position}${moved}`;
  });
}

function describeWhole(bookmark: unknown): string {
  return bookmark === undefined ? '(none)' : cut(stringifyExact(bookmark));
}

/** `1 chunk`, `2 chunks`. */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
