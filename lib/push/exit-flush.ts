/**
 * One set of process listeners for every live client: on `beforeExit` each flushes what it still
 * queues; on SIGINT/SIGTERM each closes within its deadline (sending, then spooling the rest), and the
 * signal is raised again, with our listeners gone, so the process ends as it would have. Raising it
 * again is what makes exit hooks such as signal-exit (which act only when they are the last listener)
 * run; a program's own listener for that signal hears it a second time.
 */
interface ExitAware {
  readonly pendingInMemory: number;
  flush(): Promise<void>;
  close(): Promise<unknown>;
}

const clients = new Set<ExitAware>();
let installed = false;

function onBeforeExit(): void {
  for (const client of clients) if (client.pendingInMemory > 0) void client.flush().catch(() => {});
}

function onSignal(signal: NodeJS.Signals): void {
  const closing = [...clients].map((client) => client.close().catch(() => {}));
  void Promise.all(closing).then(() => {
    uninstall();
    process.kill(process.pid, signal);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('beforeExit', onBeforeExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('beforeExit', onBeforeExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

export function flushOnExit(client: ExitAware): () => void {
  clients.add(client);
  install();
  return () => {
    clients.delete(client);
    if (clients.size === 0) uninstall();
  };
}
