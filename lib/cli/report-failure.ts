/** Prints an error for a person (name, message, the cause chain) and returns the exit code. */
export function reportFailure(error: unknown): number {
  const lines: string[] = [];
  let current: unknown = error;
  let depth = 0;
  while (current instanceof Error && depth < 4) {
    lines.push(`${depth === 0 ? '' : '  caused by '}${current.name}: ${current.message}`);
    const parent: Error = current;
    current = current.cause;
    depth += 1;
    // A cause the message already tells (the same words, or the system error one of our named errors
    // explains) would only repeat it; TRIB_DEBUG=1 still prints the whole stack.
    if (
      current instanceof Error &&
      (parent.message.includes(current.message) ||
        ((current as NodeJS.ErrnoException).code !== undefined && parent.name !== 'Error'))
    )
      break;
  }
  if (lines.length === 0) lines.push(String(error));
  process.stderr.write(`${lines.join('\n')}\n`);
  if (process.env.TRIB_DEBUG !== undefined && error instanceof Error)
    process.stderr.write(`${error.stack}\n`);
  return 1;
}
