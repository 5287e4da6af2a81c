/**
 * The README and every --help, run as a newcomer would: each shell block of the README in order in
 * one scratch folder, each command's help, and the examples the help texts show. A README that lies
 * fails the build. A block that cannot run here says why, in the README, beside the block.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../lib/cli/program.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { shell, trib, tribBin } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/paths.ts';

interface ShellBlock {
  readonly line: number;
  readonly text: string;
  /** Why it is not run, from `<!-- readme-test: not run: … -->` above the fence. */
  readonly notRun?: string;
}

function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    if (!/^```(sh|bash)\s*$/.test(lines[index] ?? '')) continue;
    const end = lines.findIndex((line, at) => at > index && line.startsWith('```'));
    const reason = /^<!-- readme-test: not run: (.+) -->$/.exec(lines[index - 1] ?? '')?.[1];
    blocks.push({
      line: index + 1,
      text: lines.slice(index + 1, end).join('\n'),
      ...(reason === undefined ? {} : { notRun: reason }),
    });
    index = end;
  }
  return blocks;
}

/** A folder where `npx trib` and `npm start` resolve to this checkout, with no registry needed. */
function scratchProject(): string {
  const folder = temporaryFolder();
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({ name: 'readme-scratch', private: true, scripts: { start: manifest.scripts.start } }),
  );
  mkdirSync(join(folder, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(tribBin, join(folder, 'node_modules', '.bin', 'trib'));
  symlinkSync(
    join(repoRoot, 'bin', 'persist-stitch.js'),
    join(folder, 'node_modules', '.bin', 'persist-stitch'),
  );
  symlinkSync(join(repoRoot, 'bin'), join(folder, 'bin'));
  symlinkSync(join(repoRoot, 'examples'), join(folder, 'examples'));
  return folder;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

// npm install needs the registry (the test runs on what `npm ci` installed), and npm test is what
// runs this test; both are said, not done. Background jobs the block started are ended with it.
const PRELUDE = `
npm() {
  case "$1" in
    install|ci) echo "(readme test: dependencies are installed already)" ;;
    test) echo "(readme test: npm test is what runs this test)" ;;
    *) command npm "$@" ;;
  esac
}
trap 'status=$?; kill $(jobs -p) 2>/dev/null || true; exit $status' EXIT
set -e
`;

describe('the README, run as written', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const blocks = shellBlocks(readme);

  it('every shell block is run, or says beside it why not and which test covers it', () => {
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks.filter((shown) => shown.notRun !== undefined))
      for (const named of block.notRun?.match(/test\/[\w/.-]+\.test\.ts/g) ?? [])
        expect(
          () => readFileSync(join(repoRoot, named)),
          `README line ${block.line} names ${named}`,
        ).not.toThrow();
    expect(blocks.filter((block) => block.notRun === undefined).length).toBeGreaterThanOrEqual(3);
  });

  it('each runnable block exits 0, in order, in one scratch folder', { timeout: 300_000 }, async () => {
    const folder = scratchProject();
    // The push example listens on 8080; on a machine where that is taken, another port stands in.
    const port = (await portIsFree(8080)) ? 8080 : await freePort();
    for (const block of blocks.filter((shown) => shown.notRun === undefined)) {
      const text = block.text.replaceAll('8080', String(port));
      const result = await shell(`${PRELUDE}\n${text}`, folder);
      expect(
        result.code,
        `README line ${block.line}:\n${block.text}\n--- stderr:\n${result.stderr}\n--- stdout:\n${result.stdout}`,
      ).toBe(0);
    }
    // What the blocks promise, looked at: the warehouse of npm start, the pipe's state, the pushed events.
    expect(readFileSync(join(folder, 'state.json'), 'utf8')).toMatch(/"bookmarks"/);
    const events = await trib(
      ['query', 'events.duckdb', 'select count(*) as n from events.events', '--format', 'json'],
      folder,
    );
    expect(JSON.parse(events.stdout)).toEqual([{ n: 2 }]);
  });
});

describe('every --help, and the examples it shows', () => {
  it('trib --help runs; every command and subcommand has a description and renders its usage', async () => {
    const top = await trib(['--help'], temporaryFolder());
    expect(top.code, top.stderr).toBe(0);
    // The rest in-process (a process per command costs a second each): the same commander tree.
    const seen: string[] = [];
    const visit = (command: Command, path: string[]) => {
      for (const sub of command.commands) {
        const name = [...path, sub.name()];
        if (name.at(-1) === 'complete' || name.at(-1) === 'help') continue;
        expect(sub.description(), `trib ${name.join(' ')} has no description`).not.toBe('');
        expect(sub.helpInformation()).toMatch(new RegExp(`^Usage: trib ${name.join(' ')}`));
        expect(top.stdout.includes(`  ${name[0]}`), `trib --help does not list ${name[0]}`).toBe(true);
        seen.push(name.join(' '));
        visit(sub, name);
      }
    };
    visit(await buildProgram(), []);
    expect(seen).toEqual(
      expect.arrayContaining(['run', 'ingest keys create', 'chunks skip', 'completion', 'version']),
    );
  });

  it('the examples in the help texts run as shown, on a pipeline with the tap they name', {
    timeout: 180_000,
  }, async () => {
    const folder = scratchProject();
    writeFileSync(join(folder, 'c.json'), '{"customers": 50, "orders": 20}');
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: warehouse.duckdb }\ntaps:\n  github-acme:\n    streamer: sample\n    config: { customers: 50, orders: 20 }\n',
    );
    expect((await trib(['run', 'pipeline.yaml'], folder)).code).toBe(0);
    const helps = await Promise.all(
      ['tap', 'persist', 'chunks', 'replay', 'rewind', 'redrive'].map(
        async (command) => (await trib([command, '--help'], folder)).stdout,
      ),
    );
    helps.push((await shell('persist-stitch --help', folder)).stdout);
    const examples = helps.flatMap((help) =>
      (help.split(/\nExamples?[^\n]*:\n/)[1] ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => /^(set -o pipefail; )?(trib|persist-stitch) /.test(line)),
    );
    // An example that needs AWS, a Stitch account or a chunk of a made-up run shows a form, not a run.
    const runnable = examples.filter((line) => !/--aws|s3:\/\/|…|\d{8}T\d{9}Z-/.test(line));
    expect(runnable.length).toBeGreaterThanOrEqual(6);
    for (const example of runnable) {
      const result = await shell(`set -e; ${example}`, folder, {
        PATH: `${join(folder, 'node_modules', '.bin')}:${process.env.PATH}`,
      });
      expect(result.code, `${example}\n${result.stderr}`).toBe(0);
    }
  });
});
