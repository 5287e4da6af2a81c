/**
 * The records already read at one replication value. APIs that filter `since` inclusively return the
 * records at the bookmark again, and a resumed run starts at the largest value it read; those records
 * are skipped by this set, so nothing is loaded twice.
 *
 * An entry is the record's key *and* a digest of its content: a record edited again within the same
 * second as the bookmark keeps its replication value but not its content, so it is read again, not
 * skipped (its key alone was seen at that second). For an unkeyed stream the digest alone tells records
 * apart.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../protocol/exact-json.ts';
import type { JsonObject } from '../../protocol/messages.ts';
import { compareValues } from './replication-values.ts';

/** Entries kept per value: a bookmark must stay small. Past it, records at that value may be read twice, never missed. */
export const BOUNDARY_LIMIT = 1_000;

export class Boundary {
  private constructor(
    private current: string | undefined,
    private entries: Set<string>,
  ) {}

  static empty(value?: string): Boundary {
    return new Boundary(value, new Set());
  }

  /** A boundary read back from a bookmark (entries that are not strings are dropped). */
  static of(value: string | undefined, entries: unknown): Boundary {
    const list = Array.isArray(entries) ? entries.filter((entry) => typeof entry === 'string') : [];
    return new Boundary(value, new Set(list));
  }

  /** The replication value the entries were read at, or undefined before any record. */
  get value(): string | undefined {
    return this.current;
  }

  get keys(): string[] {
    return [...this.entries];
  }

  copy(): Boundary {
    return new Boundary(this.current, new Set(this.entries));
  }

  /** Whether this record (at this value) was read already. */
  has(value: string, record: JsonObject, keyProperties: readonly string[]): boolean {
    return (
      this.current !== undefined &&
      this.entries.size > 0 &&
      compareValues(value, this.current) === 0 &&
      this.entries.has(entryOf(record, keyProperties))
    );
  }

  /**
   * Notes `record` read at `value`: a larger value starts a new boundary, an equal one adds to it, a
   * smaller one (an API that does not order) leaves it.
   */
  add(value: string, record: JsonObject, keyProperties: readonly string[]): void {
    const comparison = this.current === undefined ? 1 : compareValues(value, this.current);
    if (comparison > 0) {
      this.current = value;
      this.entries = new Set([entryOf(record, keyProperties)]);
    } else if (comparison === 0 && this.entries.size < BOUNDARY_LIMIT) {
      this.entries.add(entryOf(record, keyProperties));
    }
  }

  /** Moves to a value past every record read (a finished window): nothing at it was read yet. */
  moveTo(value: string): void {
    if (this.current !== undefined && compareValues(value, this.current) <= 0) return;
    this.current = value;
    this.entries = new Set();
  }
}

function entryOf(record: JsonObject, keyProperties: readonly string[]): string {
  const key = JSON.stringify(keyProperties.map((property) => record[property] ?? null));
  const digest = createHash('sha256').update(canonicalJson(record)).digest('base64url').slice(0, 16);
  return `${key}#${digest}`;
}
