/**
 * A stream's COPY lines waiting to be sent, as UTF-8 bytes in one Buffer rather than as strings.
 * Buffered strings outlive V8's young generation, so every scavenge copied the few megabytes waiting:
 * a fifth of a load's time went to the garbage collector. Bytes outside the heap are never copied,
 * and COPY sends them as they are.
 */
export class CopyBuffer {
  /** Allocated on the first line, so a stream with nothing waiting holds nothing. */
  private storage = EMPTY;
  private used = 0;
  /** Each line's record position in its chunk, so an error COPY gives by line names the record. */
  private lines: number[] = [];

  constructor(private readonly capacity: number) {}

  get bytes(): number {
    return this.used;
  }

  get rows(): number {
    return this.lines.length;
  }

  /** Appends one line, given as the parts it is made of (no string is built to join them). */
  append(position: number, ...parts: readonly string[]): void {
    for (const part of parts) {
      // A UTF-16 unit takes at most 3 bytes in UTF-8.
      if (this.used + part.length * 3 > this.storage.length) this.grow(part.length * 3);
      this.used += this.storage.write(part, this.used, 'utf8');
    }
    this.lines.push(position);
  }

  /** What is buffered, handed over whole; the buffer starts again empty, on storage of its own. */
  take(): { readonly data: Buffer; readonly positions: readonly number[] } {
    const taken = { data: this.storage.subarray(0, this.used), positions: this.lines };
    this.storage = EMPTY;
    this.used = 0;
    this.lines = [];
    return taken;
  }

  /** The first line, or one longer than what is left (a large record): room for it, keeping what is there. */
  private grow(atLeast: number): void {
    const larger = Buffer.allocUnsafe(Math.max(this.capacity, this.storage.length * 2, this.used + atLeast));
    this.storage.copy(larger, 0, 0, this.used);
    this.storage = larger;
  }
}

const EMPTY = Buffer.alloc(0);
