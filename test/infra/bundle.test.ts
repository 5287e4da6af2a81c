/**
 * The Lambda bundles as the stack builds them: small enough to start fast (bench/cold-start.ts
 * measures the load time), with no source map shipped, no DuckDB inside, and the handler exported.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ESBUILD_OPTIONS } from '../../infra/constructs/bundling.ts';

const MAX_BUNDLE_BYTES = 2 * 1024 * 1024;

describe('Lambda bundles', () => {
  it.each(['streamer', 'persister', 'ingest'])(
    '%s: one file of at most 2 MB, no source map, DuckDB left out',
    async (name) => {
      const folder = mkdtempSync(join(tmpdir(), `tributary-bundle-${name}-`));
      const outfile = join(folder, 'index.mjs');
      const result = await build({
        ...ESBUILD_OPTIONS,
        entryPoints: [`functions/${name}/handler.ts`],
        outfile,
        metafile: true,
        logLevel: 'error',
      });
      const metafile = result.metafile;
      if (metafile === undefined) throw new Error('esbuild wrote no metafile');
      expect(readdirSync(folder)).toEqual(['index.mjs']);
      expect(statSync(outfile).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
      const inputs = Object.keys(metafile.inputs);
      expect(inputs.some((path) => path.includes('@duckdb'))).toBe(false);
      expect(metafile.outputs[Object.keys(metafile.outputs)[0] ?? '']?.exports).toContain('handler');
    },
  );
});
