/**
 * When a long-running command (`trib ingest serve`) is asked to stop: SIGINT, SIGTERM, or its parent
 * going away. The last matters under `npx trib … &`: `kill %1` ends npx and the `sh -c` it runs, and
 * the node process is left orphaned, still serving. An orphan is re-parented, so a changed ppid means
 * nobody is left to stop us.
 */
export function onStopRequest(stop: (why: string) => void, pollMs = 500): () => void {
  const parent = process.ppid;
  const bySignal = (signal: NodeJS.Signals) => stop(signal);
  process.once('SIGINT', bySignal);
  process.once('SIGTERM', bySignal);
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch); // said once, as a signal is
    stop('the process that started trib is gone');
  }, pollMs);
  watch.unref();
  return () => {
    clearInterval(watch);
    process.off('SIGINT', bySignal);
    process.off('SIGTERM', bySignal);
  };
}
