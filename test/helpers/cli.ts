import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export const tribBin = join(repoRoot, 'bin', 'trib.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a shell command line in `cwd` with `trib` on the PATH, as a user would type it. */
export function shell(command: string, cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return collect(
    spawn('bash', ['-o', 'pipefail', '-c', command], {
      cwd,
      env: {
        ...process.env,
        PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`,
        TRIB: tribBin,
        ...env,
      },
    }),
  );
}

export function trib(args: readonly string[], cwd: string): Promise<CliResult> {
  return collect(spawn(process.execPath, [tribBin, ...args], { cwd }));
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (piece: Buffer) => {
    stdout += piece.toString();
  });
  child.stderr?.on('data', (piece: Buffer) => {
    stderr += piece.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
