import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../../lib/state/file-state-store.ts';
import { startingBookmark } from '../../../lib/state/state-store.ts';
import { temporaryFolder } from '../../helpers/chunks.ts';

const at = (run: string, seq: number, bookmark: unknown) => ({
  run,
  seq,
  bookmark,
  at: '2026-01-01T00:00:00Z',
});

describe('FileStateStore', () => {
  it('moves staged and committed forward only, in (run, seq) order', async () => {
    const store = new FileStateStore(temporaryFolder());
    expect(await store.markCommitted('t', at('r1', 1, 'b1'))).toBe(true);
    expect(await store.markCommitted('t', at('r1', 0, 'old'))).toBe(false);
    expect(await store.markCommitted('t', at('r1', 1, 'same'))).toBe(false);
    expect(await store.markCommitted('t', at('r2', 0, 'b2'))).toBe(true);
    expect((await store.read('t')).committed?.bookmark).toBe('b2');
    expect(await store.markStaged('t', at('r2', 3, 's'))).toBe(true);
    expect(await store.markStaged('t', at('r2', 2, 'x'))).toBe(false);
  });

  it('starts the next run from staged when set, else committed', async () => {
    const store = new FileStateStore(temporaryFolder());
    expect(startingBookmark(await store.read('t'))).toBeUndefined();
    await store.markCommitted('t', at('r1', 0, 'committed'));
    expect(startingBookmark(await store.read('t'))?.bookmark).toBe('committed');
    await store.markStaged('t', at('r1', 2, 'staged'));
    expect(startingBookmark(await store.read('t'))?.bookmark).toBe('staged');
  });

  it('grants a lease to one owner until it is released or expires', async () => {
    let now = 1_000;
    const store = new FileStateStore(temporaryFolder(), () => now);
    expect(await store.acquireLease('t', 'a', 100)).toBe(true);
    expect(await store.acquireLease('t', 'b', 100)).toBe(false);
    expect(await store.acquireLease('t', 'a', 100)).toBe(true); // renewal
    now = 1_200;
    expect(await store.acquireLease('t', 'b', 100)).toBe(true); // expired
    await store.releaseLease('t', 'a'); // not a's any more: no effect
    expect((await store.read('t')).lease?.owner).toBe('b');
    await store.releaseLease('t', 'b');
    expect((await store.read('t')).lease).toBeUndefined();
  });

  it('serialises concurrent updates and leaves no temp files behind', async () => {
    const folder = temporaryFolder();
    const store = new FileStateStore(folder);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, seq) => store.markCommitted('t', at('r1', seq, seq))),
    );
    expect(results.filter(Boolean).length).toBeGreaterThan(0);
    expect((await store.read('t')).committed?.seq).toBe(19);
    expect(readdirSync(folder)).toEqual(['t.json']);
  });
});
