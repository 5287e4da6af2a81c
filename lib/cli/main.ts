/**
 * `trib`: run pipelines locally, and speak the Singer tap and target interfaces in Unix pipes.
 * Messages go to stdout; logs, progress and errors go to stderr.
 */
import { endQuietlyWhenStdoutCloses } from './closed-stdout.ts';
import { buildProgram } from './program.ts';
import { reportFailure } from './report-failure.ts';

endQuietlyWhenStdoutCloses();
try {
  await (await buildProgram(process.argv[2])).parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFailure(error);
}
