import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { pipelineReference, referenceRows } from '../../../lib/pipeline/pipeline-reference.ts';
import { pipelineSchema } from '../../../lib/pipeline/pipeline-schema.ts';
import { repoRoot } from '../../helpers/paths.ts';

/** Every sub-schema with its path, so each default and example can be checked against its own node. */
function nodes(node: unknown, path: string): { path: string; node: Record<string, unknown> }[] {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return [];
  const found = [{ path, node: node as Record<string, unknown> }];
  for (const [key, child] of Object.entries(node)) {
    if (key === 'examples' || key === 'default' || key === 'enum') continue;
    if (Array.isArray(child))
      for (const [index, item] of child.entries()) found.push(...nodes(item, `${path}/${key}/${index}`));
    else found.push(...nodes(child, `${path}/${key}`));
  }
  return found;
}

describe('the pipeline file reference', () => {
  it('docs/pipeline-reference.md is what the schema says (npm run docs:pipeline writes it)', () => {
    const committed = readFileSync(join(repoRoot, 'docs', 'pipeline-reference.md'), 'utf8');
    expect(committed, 'docs/pipeline-reference.md is stale: run npm run docs:pipeline').toBe(
      `${pipelineReference()}\n`,
    );
  });

  it('documents every key: each has a description, and each section is in the document', () => {
    const rows = referenceRows();
    expect(rows.filter((row) => row.description === undefined).map((row) => row.key)).toEqual([]);
    for (const section of Object.keys(pipelineSchema.properties))
      expect(pipelineReference()).toContain(`## \`${section}\``);
    expect(rows.map((row) => row.key)).toEqual(
      expect.arrayContaining([
        'taps.<name>.chunk.max_records',
        'destination.url (type postgres)',
        'ingest.schedule',
      ]),
    );
  });

  it('every default and example is a value the key accepts', () => {
    const ajv = new Ajv({ strict: false });
    const wrong: string[] = [];
    for (const { path, node } of nodes(pipelineSchema, '#')) {
      const { examples, default: fallback, description: _, ...rest } = node;
      const values = [
        ...((examples as unknown[] | undefined) ?? []),
        ...(fallback === undefined ? [] : [fallback]),
      ];
      for (const value of values)
        if (!ajv.validate(rest, value)) wrong.push(`${path}: ${JSON.stringify(value)}`);
    }
    expect(wrong).toEqual([]);
  });
});
