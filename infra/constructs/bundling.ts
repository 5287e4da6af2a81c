/**
 * How the functions are bundled: one ESM file per function, minified, without a source map (a 4 MB
 * map would triple the bundle and slow every cold start), with the pipeline file copied beside it.
 * bench/cold-start.ts bundles with these same options to measure size and module load time.
 */
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** Native or optional modules the functions never load in AWS (DuckDB is for local runs). */
export const EXTERNAL_MODULES = ['@duckdb/node-api', '@duckdb/node-bindings', 'pg-native'];

/** esbuild's own options for the same bundle, for the benchmark. */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  external: EXTERNAL_MODULES,
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
} satisfies BuildOptions;

export function lambdaBundling(pipelineFile: string): nodejs.BundlingOptions {
  return {
    format: nodejs.OutputFormat.ESM,
    minify: ESBUILD_OPTIONS.minify,
    sourceMap: ESBUILD_OPTIONS.sourcemap,
    target: ESBUILD_OPTIONS.target,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    externalModules: EXTERNAL_MODULES,
    banner: ESBUILD_OPTIONS.banner.js,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_input: string, output: string) => [
        `cp ${JSON.stringify(pipelineFile)} ${JSON.stringify(`${output}/pipeline.yaml`)}`,
      ],
    },
  };
}
