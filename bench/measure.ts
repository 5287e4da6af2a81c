/** Runs a command and reports its wall time and peak memory (VmHWM from /proc, polled). */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  readonly seconds: number;
  readonly peakMb: number | undefined;
  readonly stdout: string;
}

export function measure(
  command: string,
  args: readonly string[],
  options: { stdinFile?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn(
    'bash',
    [
      '-c',
      options.stdinFile === undefined ? '"$0" "$@"' : `"$0" "$@" < ${JSON.stringify(options.stdinFile)}`,
      command,
      ...args,
    ],
    {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let peakKb: number | undefined;
  const poll = setInterval(() => {
    peakKb = Math.max(peakKb ?? 0, ...descendants(child.pid).map(peakOf));
  }, 50);
  let stdout = '';
  child.stdout.on('data', (piece: Buffer) => {
    stdout += piece.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      resolve({
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        peakMb: peakKb === undefined ? undefined : peakKb / 1024,
        stdout,
      });
    });
  });
}

function descendants(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return [pid, ...children.flatMap(descendants)];
  } catch {
    return [];
  }
}

function peakOf(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

export function rate(records: number, seconds: number): string {
  return `${Math.round(records / seconds).toLocaleString('en-US')} rec/s`;
}
