/**
 * A Singer tap or target as the pipeline file names it: a shell command line (`command: tap-postgres`,
 * `command: python3 tap.py`) or an executable and its arguments. Tributary's own flags (`--config`,
 * `--state`, `--catalog`) are passed after the user's, as arguments the shell does not re-read, so no
 * path or value of ours is ever parsed by a shell.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SingerCommand {
  /** What people call it in messages: the command line as written. */
  readonly label: string;
  readonly executable: string;
  readonly args: readonly string[];
}

export function singerCommand(spec: {
  readonly command?: string;
  readonly executable?: string;
  readonly args?: readonly string[];
}): SingerCommand {
  if (spec.command !== undefined)
    return { label: spec.command, executable: '/bin/sh', args: ['-c', `${spec.command} "$@"`, 'singer'] };
  const executable = spec.executable ?? '';
  return { label: [executable, ...(spec.args ?? [])].join(' '), executable, args: spec.args ?? [] };
}

export interface RunningCommand {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process is gone and stderr is read. */
  readonly exited: Promise<number | string>;
  /** The last lines it wrote to stderr, for the error that names why it failed. */
  lastErrorLines(): string;
  /** Stops it (SIGTERM) if it still runs; resolves when it is gone. */
  stop(): Promise<void>;
}

const KEPT_ERROR_LINES = 12;

/**
 * Starts a Singer program. Each stderr line goes to `log` (taps log there; people want to see it), and
 * the last few are kept for the error message.
 */
export function startCommand(
  command: SingerCommand,
  extraArgs: readonly string[],
  options: {
    readonly log?: (line: string) => void;
    readonly stdin?: 'pipe' | 'ignore';
    readonly cwd?: string;
  },
): RunningCommand {
  const child = spawn(command.executable, [...command.args, ...extraArgs], {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const kept: string[] = [];
  const stderrDone = new Promise<void>((resolve) => {
    if (child.stderr === null) return resolve();
    const lines = createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      kept.push(line);
      if (kept.length > KEPT_ERROR_LINES) kept.shift();
      options.log?.(`${command.label}: ${line}`);
    });
    lines.on('close', resolve);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (error) => {
      kept.push(`cannot start ${command.executable}: ${error.message}`);
      resolve('not started');
    });
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  }).then(async (status) => {
    await stderrDone;
    return status;
  });
  return {
    child,
    exited,
    lastErrorLines: () => kept.join('\n    '),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Why a finished Singer program failed ("exited with code 1; its last words..."), or undefined. */
export function exitProblem(status: number | string, lastLines: string): string | undefined {
  if (status === 0) return undefined;
  const how = typeof status === 'number' ? `exited with code ${status}` : `ended (${status})`;
  return `${how}${lastLines === '' ? '' : `; its last words on stderr:\n    ${lastLines}`}`;
}
