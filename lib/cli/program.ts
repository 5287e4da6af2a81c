/** Every `trib` command, built without running: main.ts parses the arguments; tests walk the tree. */
import tab from '@bomb.sh/tab/commander';
import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };

const packageVersion = packageJson.version;

/**
 * Each command, from its own module, in the order `trib --help` lists them. A command's module is
 * loaded only when it is needed: `trib persist` at the end of a Unix pipe loads the destinations and
 * the persister, not the streamers, pipelines and AWS operator tools (0.50 s to start, then 0.31 s).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => (await import('./commands/run.ts')).runCommand(),
  schedule: async () => (await import('./commands/schedule.ts')).scheduleCommand(),
  tap: async () => (await import('./commands/tap.ts')).tapCommand(),
  persist: async () => (await import('./commands/persist.ts')).persistCommand(),
  replay: async () => (await import('./commands/replay.ts')).replayCommand(),
  redrive: async () => (await import('./commands/redrive.ts')).redriveCommand(),
  rewind: async () => (await import('./commands/rewind.ts')).rewindCommand('rewind'),
  reset: async () => (await import('./commands/rewind.ts')).rewindCommand('reset'),
  status: async () => (await import('./commands/status.ts')).statusCommand(),
  chunks: async () => (await import('./commands/chunks.ts')).chunksCommand(),
  query: async () => (await import('./commands/query.ts')).queryCommand(),
  auth: async () => (await import('./commands/auth.ts')).authCommand(),
  steps: async () => (await import('./commands/steps.ts')).stepsCommand(),
  test: async () => (await import('./commands/test.ts')).testCommand(),
  quarantine: async () => (await import('./commands/quarantine.ts')).quarantineCommand(),
  streamers: async () => (await import('./commands/streamers.ts')).streamersCommand(),
  init: async () => (await import('./commands/init.ts')).initCommand(),
  schema: async () => (await import('./commands/schema.ts')).schemaCommand(),
  ingest: async () => (await import('./commands/ingest.ts')).ingestCommand(),
  push: async () => (await import('./commands/push.ts')).pushCommand(),
};

/**
 * The `trib` program. Given the command line's first argument, and that names a command, only that
 * command is built (its own options, help and errors are all it needs); otherwise every command is,
 * for `trib --help`, `trib help …`, completion and tests that walk the tree.
 */
export async function buildProgram(invoked?: string): Promise<Command> {
  const program = new Command('trib')
    .description('Tributary: sync SaaS API data into a warehouse on a schedule, exactly once.')
    .version(packageVersion, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    // A subcommand's options are its own (`trib chunks skip … --aws` is skip's, not the listing's).
    .enablePositionalOptions();
  const only = invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? COMMANDS[invoked] : undefined;
  if (only !== undefined) {
    program.addCommand(await only());
    return program;
  }
  for (const command of await Promise.all(Object.values(COMMANDS).map((build) => build())))
    program.addCommand(command);
  program.addCommand(
    new Command('version').description('print the version').action(() => {
      process.stdout.write(`${packageVersion}\n`);
    }),
  );

  // `trib completion bash|zsh|fish|powershell` prints the script to source; the shell then calls
  // `trib complete -- …` for suggestions, answered from the commands and options defined above.
  const completion = tab(program, { completionCommandName: 'completion' });
  const { allStreamers } = await import('../streamers/index.ts');
  const completeStreamer = (complete: (value: string, description: string) => void) => {
    for (const streamer of allStreamers()) complete(streamer.name, streamer.description);
  };
  completion.commands.get('streamers')?.argument('name', completeStreamer);
  const streamerOption = completion.commands.get('init')?.options.get('streamer');
  if (streamerOption !== undefined) streamerOption.handler = completeStreamer;
  return program;
}
