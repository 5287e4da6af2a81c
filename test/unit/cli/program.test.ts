import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../lib/cli/program.ts';

const BUILT_IN = new Set(['help', 'complete', 'completion', 'version']);

describe('trib builds only the command it is given', () => {
  it('each command built alone is the same command as in the whole tree (options, help and subcommands)', async () => {
    const whole = await buildProgram();
    const names = whole.commands.map((command) => command.name()).filter((name) => !BUILT_IN.has(name));
    expect(names).toEqual(expect.arrayContaining(['run', 'persist', 'tap', 'rewind', 'reset', 'chunks']));
    const helpOf = (command: Command): string[] => [
      command.helpInformation(),
      ...command.commands.flatMap((sub) => helpOf(sub)),
    ];
    for (const name of names) {
      const alone = await buildProgram(name);
      expect(alone.commands.map((command) => command.name())).toEqual([name]);
      const [built] = alone.commands as [Command];
      const inWhole = whole.commands.find((command) => command.name() === name) as Command;
      expect(helpOf(built), `trib ${name}`).toEqual(helpOf(inWhole));
    }
  });

  it('builds every command for anything that is not a command name: options, help, completion, typos', async () => {
    const whole = (await buildProgram()).commands.map((command) => command.name());
    for (const first of [
      undefined,
      '--help',
      '-V',
      'help',
      'completion',
      'complete',
      'version',
      'persit',
      'toString',
    ])
      expect(
        (await buildProgram(first)).commands.map((command) => command.name()),
        String(first),
      ).toEqual(whole);
  });
});
