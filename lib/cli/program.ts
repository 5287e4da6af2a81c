/** Every `trib` command, built without running: main.ts parses the arguments; tests walk the tree. */
import tab from '@bomb.sh/tab/commander';
import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { allStreamers } from '../streamers/index.ts';
import { authCommand } from './commands/auth.ts';
import { chunksCommand } from './commands/chunks.ts';
import { ingestCommand } from './commands/ingest.ts';
import { initCommand } from './commands/init.ts';
import { persistCommand } from './commands/persist.ts';
import { pushCommand } from './commands/push.ts';
import { quarantineCommand } from './commands/quarantine.ts';
import { queryCommand } from './commands/query.ts';
import { redriveCommand } from './commands/redrive.ts';
import { replayCommand } from './commands/replay.ts';
import { rewindCommand } from './commands/rewind.ts';
import { runCommand } from './commands/run.ts';
import { scheduleCommand } from './commands/schedule.ts';
import { schemaCommand } from './commands/schema.ts';
import { statusCommand } from './commands/status.ts';
import { stepsCommand } from './commands/steps.ts';
import { streamersCommand } from './commands/streamers.ts';
import { tapCommand } from './commands/tap.ts';
import { testCommand } from './commands/test.ts';

const packageVersion = packageJson.version;

export function buildProgram(): Command {
  const program = new Command('trib')
    .description('Tributary: sync SaaS API data into a warehouse on a schedule, exactly once.')
    .version(packageVersion, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    // A subcommand's options are its own (`trib chunks skip … --aws` is skip's, not the listing's).
    .enablePositionalOptions()
    .addCommand(runCommand())
    .addCommand(scheduleCommand())
    .addCommand(tapCommand())
    .addCommand(persistCommand())
    .addCommand(replayCommand())
    .addCommand(redriveCommand())
    .addCommand(rewindCommand('rewind'))
    .addCommand(rewindCommand('reset'))
    .addCommand(statusCommand())
    .addCommand(chunksCommand())
    .addCommand(queryCommand())
    .addCommand(authCommand())
    .addCommand(stepsCommand())
    .addCommand(testCommand())
    .addCommand(quarantineCommand())
    .addCommand(streamersCommand())
    .addCommand(initCommand())
    .addCommand(schemaCommand())
    .addCommand(ingestCommand())
    .addCommand(pushCommand())
    .addCommand(
      new Command('version').description('print the version').action(() => {
        process.stdout.write(`${packageVersion}\n`);
      }),
    );

  // `trib completion bash|zsh|fish|powershell` prints the script to source; the shell then calls
  // `trib complete -- …` for suggestions, answered from the commands and options defined above.
  const completion = tab(program, { completionCommandName: 'completion' });
  const completeStreamer = (complete: (value: string, description: string) => void) => {
    for (const streamer of allStreamers()) complete(streamer.name, streamer.description);
  };
  completion.commands.get('streamers')?.argument('name', completeStreamer);
  const streamerOption = completion.commands.get('init')?.options.get('streamer');
  if (streamerOption !== undefined) streamerOption.handler = completeStreamer;
  return program;
}
