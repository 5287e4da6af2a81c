/**
 * With TRIB_TRACE_SQL set, every statement a destination runs goes to stderr with its duration and
 * the process's memory, for tuning loads: `at` is when it started (ms since the process did), so gaps
 * between statements (the server idle, waiting for Node) show. Off, a statement costs one boolean check.
 */
export const tracingSql = process.env.TRIB_TRACE_SQL !== undefined;

/** Call with the `performance.now()` taken before the statement ran. */
export function traceSql(started: number, sql: string): void {
  process.stderr.write(
    `[sql at ${started.toFixed(0)}, ${(performance.now() - started).toFixed(0)} ms, rss ${(process.memoryUsage.rss() / 1e6).toFixed(0)} MB] ${sql.slice(0, 160)}\n`,
  );
}
