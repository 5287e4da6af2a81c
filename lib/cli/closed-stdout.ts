/**
 * A reader that stops early (`trib query … | head`, `trib complete -- … | head`) closes our stdout.
 * The next write fails with EPIPE, and the failure is emitted on the stream after the write has
 * returned, where no caller can catch it: Node printed a stack trace. A command's stdout is for its
 * reader, and that reader has gone, so the process ends as a program killed by SIGPIPE does: at
 * once, quietly, with 128 + 13. Whatever it had under way is left as a crash leaves it (a load's
 * transaction is not committed; the next run resumes from the last commit).
 */
const SIGPIPE_EXIT_CODE = 128 + 13;

export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(SIGPIPE_EXIT_CODE);
  });
}
