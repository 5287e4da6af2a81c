/**
 * Warehouse names for taps, streams and properties. The rule, the same in every destination:
 *
 * 1. lower-case; every character outside `a-z`, `0-9` and `_` becomes `_`;
 * 2. a name that starts with a digit (or is empty) gets a leading `_`;
 * 3. a name longer than 63 bytes (PostgreSQL's limit) keeps its first 54 characters, then `_` and
 *    8 hex digits of the SHA-256 of the original name, so long names stay distinct.
 *
 * Names that still land on one (`Id` and `id`, `Orders` and `orders`) are told apart in
 * warehouse-names.ts, which also keeps them stable.
 */
import { createHash } from 'node:crypto';

export const MAX_IDENTIFIER_BYTES = 63;
const KEEP_WHEN_SHORTENED = 54;

export function sanitizeIdentifier(name: string): string {
  let cleaned = name.toLowerCase().replaceAll(/[^a-z0-9_]/g, '_');
  if (cleaned === '' || /^[0-9]/.test(cleaned)) cleaned = `_${cleaned}`;
  return cleaned.length > MAX_IDENTIFIER_BYTES
    ? withHash(cleaned.slice(0, KEEP_WHEN_SHORTENED), name)
    : cleaned;
}

/** A name for `original` when its sanitized name `base` is already given to another: base + its hash. */
export function collisionName(base: string, original: string): string {
  return withHash(base.slice(0, KEEP_WHEN_SHORTENED), original);
}

/** A suffixed variant of a column name (`amount__string`) that still fits the length limit. */
export function suffixedIdentifier(base: string, suffix: string): string {
  const name = `${base}__${suffix}`;
  return name.length > MAX_IDENTIFIER_BYTES ? withHash(name.slice(0, KEEP_WHEN_SHORTENED), name) : name;
}

function withHash(prefix: string, original: string): string {
  return `${prefix}_${createHash('sha256').update(original).digest('hex').slice(0, 8)}`;
}
