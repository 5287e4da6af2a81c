/**
 * Whether some key appears twice among the rows of one merge: a merge that knows none does can skip
 * keeping only each key's last row. Used by both SQL destinations.
 */
export class RepeatedKeys {
  private readonly seen = new Set<unknown>();
  /** True once a key was noted a second time, until `clear`. */
  repeated = false;

  constructor(private readonly keyProperties: readonly string[]) {}

  /**
   * Notes a row's key. A single string or number key is its own Set member (no string is kept for
   * each record); any other key is `text`, the key as text (or made by it, only then).
   */
  note(values: Readonly<Record<string, unknown>>, text: string | (() => string)): void {
    if (this.repeated) return;
    const only = this.keyProperties.length === 1 ? values[this.keyProperties[0] as string] : undefined;
    const member =
      typeof only === 'string' || typeof only === 'number' ? only : typeof text === 'string' ? text : text();
    if (this.seen.has(member)) this.repeated = true;
    else this.seen.add(member);
  }

  clear(): void {
    this.seen.clear();
    this.repeated = false;
  }
}
