/**
 * Cold start of the Lambda bundles: each handler bundled exactly as the stack bundles it
 * (infra/constructs/bundling.ts), then its size and the time a fresh Node process takes to load the
 * module, median of several runs, beside a bare `node -e ''` start measured in the same run.
 * Aims (issue: cdk deploy gives a stack that works): each bundle ≤ 2 MB, module load ≤ 300 ms here.
 *
 *   npm run bench:cold-start
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ESBUILD_OPTIONS } from '../infra/constructs/bundling.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const folder = mkdtempSync(join(tmpdir(), 'tributary-cold-start-'));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Milliseconds a fresh `node` spends importing `file` (measured inside the process, so start-up is excluded). */
function loadMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return Number(out.toString().trim());
}

function bareStartMs(): number {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', '']);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

console.log(`cold start, ${RUNS} runs each, node ${process.version}`);
console.log(
  `bare node start: ${median(Array.from({ length: RUNS }, bareStartMs)).toFixed(0)} ms (process start, for scale)`,
);
for (const name of ['streamer', 'persister']) {
  const outfile = join(folder, name, 'index.mjs');
  await build({
    ...ESBUILD_OPTIONS,
    entryPoints: [`functions/${name}/handler.ts`],
    outfile,
    logLevel: 'error',
  });
  const bytes = statSync(outfile).size;
  const load = median(Array.from({ length: RUNS }, () => loadMs(outfile)));
  console.log(
    `${name.padEnd(9)} bundle ${(bytes / 1024 / 1024).toFixed(2)} MB (aim ≤ 2 MB)   module load ${load.toFixed(0)} ms (aim ≤ 300 ms)`,
  );
}
