/**
 * Warehouse names for taps, streams and properties. The rule, the same in every destination:
 *
 * 1. lower-case; every character outside `a-z`, `0-9` and `_` becomes `_`;
 * 2. a name that starts with a digit (or is empty) gets a leading `_`;
 * 3. a name longer than 63 bytes (PostgreSQL's limit) keeps its first 54 characters, then `_` and
 *    8 hex digits of the SHA-256 of the original name, so long names stay distinct.
 *
 * Two properties of one schema that still land on one name (`Id` and `id`) are told apart by giving
 * each one whose original differs from the shared name the same hash suffix.
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

/** Column names for a schema's properties, distinct within the schema. */
export function columnNamesFor(properties: readonly string[]): Map<string, string> {
  const byName = new Map<string, string[]>();
  for (const property of properties) {
    const name = sanitizeIdentifier(property);
    byName.set(name, [...(byName.get(name) ?? []), property]);
  }
  const columns = new Map<string, string>();
  for (const [name, owners] of byName) {
    for (const owner of owners) {
      const clash = owners.length > 1 && owner !== name;
      columns.set(owner, clash ? withHash(name.slice(0, KEEP_WHEN_SHORTENED), owner) : name);
    }
  }
  return columns;
}

/** A suffixed variant of a column name (`amount__string`) that still fits the length limit. */
export function suffixedIdentifier(base: string, suffix: string): string {
  const name = `${base}__${suffix}`;
  return name.length > MAX_IDENTIFIER_BYTES ? withHash(name.slice(0, KEEP_WHEN_SHORTENED), name) : name;
}

function withHash(prefix: string, original: string): string {
  return `${prefix}_${createHash('sha256').update(original).digest('hex').slice(0, 8)}`;
}
