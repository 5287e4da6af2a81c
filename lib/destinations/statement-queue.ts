/**
 * Runs a load transaction's statements one at a time, in order, on its one connection, while Node
 * goes on parsing: callers queue work and await it only when they need the result. The first failure
 * is kept: everything queued after it is refused with that error, and the transaction rolls back.
 */
export class StatementQueue {
  private tail: Promise<void> = Promise.resolve();
  /** The first statement that failed, if any. */
  failure: unknown;

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return work();
    });
    this.tail = result.then(
      () => {},
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    return result;
  }

  /** Resolves when everything queued so far has run (failures are in `failure`). */
  settled(): Promise<void> {
    return this.tail;
  }

  /** Throws the first failure, for callers about to queue more work. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
