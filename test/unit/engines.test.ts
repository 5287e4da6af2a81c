/** `npm install` on the oldest Node we claim must not warn EBADENGINE: package.json's engines and every locked dependency agree. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.ts';

interface LockedPackage {
  readonly engines?: { readonly node?: string } | readonly string[];
}

describe('engines', () => {
  it('every locked package accepts the oldest Node that package.json claims, and the README names it', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const oldest = semver.minVersion(manifest.engines.node);
    expect(oldest).not.toBeNull();
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockedPackage>;
    };
    const refusing = Object.entries(lock.packages)
      .map(([path, locked]) => ({
        path,
        node: Array.isArray(locked.engines) ? undefined : (locked.engines as { node?: string })?.node,
      }))
      .filter(({ node }) => node !== undefined && !semver.satisfies(oldest?.version ?? '', node))
      .map(({ path, node }) => `${path} wants node ${node}`);
    expect(refusing).toEqual([]);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain(`Node ${oldest?.major}.${oldest?.minor} or newer`);
  });
});
