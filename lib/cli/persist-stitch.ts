/**
 * `persist-stitch`, as the Stitch Streams guides run it: sends a streamer's output to the Stitch
 * Import API and prints each bookmark once the records before it are accepted.
 *
 *   STITCH_TOKEN=… STITCH_CLIENT_ID=… persist-stitch trib tap github state.json
 *   trib tap github | persist-stitch -C <client id> -T <token>
 *
 * With a command it runs it and reads its stdout; without one it reads stdin. `tail -1` of what it
 * prints is the next run's bookmark file.
 */
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { openDestination, stitchFromEnvironment } from '../destinations/open-destination.ts';
import { endQuietlyWhenStdoutCloses } from './closed-stdout.ts';
import { positiveInteger } from './commands/persist.ts';
import { persistAndPrint } from './persist-and-print.ts';
import { reportFailure } from './report-failure.ts';

const program = new Command('persist-stitch')
  .description(
    'Send Singer or Stitch Streams messages to the Stitch Import API; print each accepted bookmark.',
  )
  .argument('[command...]', 'a streamer command to run and read (default: read stdin)')
  .option('-C, --client-id <id>', 'the Stitch client (account) id (default: $STITCH_CLIENT_ID)')
  .option(
    '-T, --token <token>',
    'the Import API token (default: $STITCH_TOKEN; the variable keeps it out of the process list)',
  )
  .option(
    '--api-url <url>',
    'another endpoint: the EU region, a proxy, a test fake (default: $STITCH_API_URL)',
  )
  .option('--tap <name>', 'the name its delivery ledger is kept under', 'stitch')
  .option(
    '--commit-every <records>',
    'send at the first STATE after this many records',
    (value) => positiveInteger(value, '--commit-every'),
    100_000,
  )
  .passThroughOptions()
  .addHelpText(
    'after',
    '\nExamples:\n  STITCH_TOKEN=… STITCH_CLIENT_ID=… persist-stitch trib tap github --config github.json | tail -1 > state.json.new && mv state.json.new state.json\n  set -o pipefail; trib tap sample --config c.json | persist-stitch | tail -1 > state.json.new && mv state.json.new state.json',
  )
  .action(
    async (
      command: string[],
      options: { clientId?: string; token?: string; apiUrl?: string; tap: string; commitEvery: number },
    ) => {
      const env = {
        ...process.env,
        ...(options.token === undefined ? {} : { STITCH_TOKEN: options.token }),
        ...(options.clientId === undefined ? {} : { STITCH_CLIENT_ID: options.clientId }),
        ...(options.apiUrl === undefined ? {} : { STITCH_API_URL: options.apiUrl }),
      };
      const destination = await openDestination(stitchFromEnvironment('stitch', env), {
        log: (line) => process.stderr.write(`${line}\n`),
      });
      try {
        if (command.length === 0) {
          await persistAndPrint('persist-stitch', process.stdin, {
            ...options,
            destination,
            source: 'stdin',
          });
          return;
        }
        await persistCommandOutput(command, { ...options, destination });
      } finally {
        await destination.close();
      }
    },
  );

/** Runs the streamer and persists its stdout; a streamer that fails fails this too, after what it committed. */
async function persistCommandOutput(
  command: string[],
  options: Omit<Parameters<typeof persistAndPrint>[2], 'source'>,
): Promise<void> {
  const [executable = '', ...args] = command;
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (error) => resolve(`not started: ${error.message}`));
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  try {
    if (child.stdout === null) throw new Error(`${executable}: no stdout`);
    await persistAndPrint('persist-stitch', child.stdout, { ...options, source: command.join(' ') });
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  const status = await exited;
  if (status !== 0)
    throw new Error(
      `${command.join(' ')} ${typeof status === 'number' ? `exited with code ${status}` : status}; what it sent up to its last STATE is in Stitch and its bookmark printed`,
    );
}

// A reader that stopped early (`| head -1`) has what it wanted: end as trib does, not with a stack trace.
endQuietlyWhenStdoutCloses();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFailure(error);
}
