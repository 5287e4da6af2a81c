/**
 * Any Singer tap executable as a streamer (`streamer: { command: tap-foo }`): its config, state and
 * catalog go to it as files, `--discover` gives the catalog in which the pipeline's `streams:` are
 * selected, its stdout is read as Singer messages and its stderr is forwarded line by line. A non-zero
 * exit fails the run after what it read up to its last STATE is staged, as with a built-in streamer;
 * chunking, bookmarks and exactly-once loading are the same.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringifyExact } from '../protocol/exact-json.ts';
import type { Message } from '../protocol/messages.ts';
import { parseMessages } from '../protocol/parser.ts';
import { selectInCatalog } from '../streamer/catalog.ts';
import type { Streamer, StreamerRunOptions } from '../streamer/streamer.ts';
import { exitProblem, type SingerCommand, startCommand } from './singer-command.ts';

export interface SingerTapOptions {
  readonly command: SingerCommand;
  /** A catalog file to select streams in, instead of running `--discover`. */
  readonly catalog?: string;
  /** The flag the tap reads its catalog from: `--catalog`, or `--properties` for older singer-io taps. */
  readonly catalogFlag?: '--catalog' | '--properties';
}

export class SingerTapError extends Error {
  override readonly name = 'SingerTapError';
}

export function singerTapStreamer(options: SingerTapOptions): Streamer {
  const label = options.command.label;
  return {
    name: label,
    description: `Singer tap \`${label}\``,
    // The tap checks its own config; its streams are known only once it has run --discover.
    configSchema: { type: 'object' },
    streams: [],
    run: (runOptions) => runTap(options, runOptions),
  };
}

async function* runTap(options: SingerTapOptions, run: StreamerRunOptions): AsyncGenerator<Message> {
  const folder = await mkdtemp(join(tmpdir(), 'tributary-tap-'));
  try {
    // 0600: the config holds the tap's credentials; the folder goes when the run ends.
    const config = join(folder, 'config.json');
    await writeFile(config, JSON.stringify(run.config), { mode: 0o600 });
    const discovered =
      options.catalog === undefined
        ? await discover(options.command, config, run.log)
        : await readCatalog(options.catalog);
    const catalog = join(folder, 'catalog.json');
    const selected = selectInCatalog(discovered, run.selectedStreams, `tap ${options.command.label}`);
    await writeFile(catalog, JSON.stringify(selected));
    const args = ['--config', config, options.catalogFlag ?? '--catalog', catalog];
    if (run.state !== undefined) {
      const state = join(folder, 'state.json');
      await writeFile(state, stringifyExact(run.state)); // a 19-digit id reaches the tap as written
      args.push('--state', state);
    }
    const tap = startCommand(options.command, args, run.log === undefined ? {} : { log: run.log });
    let finished = false;
    try {
      if (tap.child.stdout === null) throw new SingerTapError(`${options.command.label}: no stdout`);
      for await (const { message } of parseMessages(tap.child.stdout, {
        source: `tap ${options.command.label}`,
      }))
        yield message;
      const problem = exitProblem(await tap.exited, tap.lastErrorLines());
      if (problem !== undefined) throw new SingerTapError(`the tap ${problem}`);
      finished = true;
    } finally {
      // The run stopped early (a deadline, Ctrl-C, a record that can never load): the tap must not go on.
      if (!finished) await tap.stop();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function discover(
  command: SingerCommand,
  config: string,
  log?: (line: string) => void,
): Promise<unknown> {
  const tap = startCommand(command, ['--config', config, '--discover'], log === undefined ? {} : { log });
  const pieces: Buffer[] = [];
  tap.child.stdout?.on('data', (piece: Buffer) => pieces.push(piece));
  const problem = exitProblem(await tap.exited, tap.lastErrorLines());
  if (problem !== undefined) throw new SingerTapError(`${command.label} --discover ${problem}`);
  const text = Buffer.concat(pieces).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SingerTapError(
      `${command.label} --discover printed no JSON catalog (${(error as Error).message}); it began: ${JSON.stringify(text.slice(0, 120))}`,
    );
  }
}

async function readCatalog(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new SingerTapError(
      `catalog ${path}: ${(error as Error).message}; give a catalog as --discover prints it`,
    );
  }
}
