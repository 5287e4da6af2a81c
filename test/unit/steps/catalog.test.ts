import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG_END, CATALOG_START, stepCatalogMarkdown } from '../../../lib/steps/step-catalog.ts';
import { repoRoot } from '../../helpers/paths.ts';

describe('the README step catalogue', () => {
  it("is the one the steps' own option schemas make (npm run docs:steps rewrites it)", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = readme.slice(
      readme.indexOf(CATALOG_START),
      readme.indexOf(CATALOG_END) + CATALOG_END.length,
    );
    expect(block).toBe(stepCatalogMarkdown());
  });
});
