import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { FolderStage } from '../../../lib/stage/folder-stage.ts';
import { ChunkNotFoundError } from '../../../lib/stage/stage.ts';
import { temporaryFolder } from '../../helpers/chunks.ts';

const meta = (seq: number) => ({
  tap: 't',
  run: 'r1',
  seq,
  records: 1,
  streams: ['s'],
  previous: seq === 0 ? null : { run: 'r1', seq: seq - 1 },
});

describe('FolderStage', () => {
  it('puts, lists in key order, opens and reads metadata', async () => {
    const root = temporaryFolder();
    const stage = new FolderStage(root);
    await stage.put('stage/t/r1/000001.jsonl.gz', Buffer.from('one'), meta(1));
    await stage.put('stage/t/r1/000000.jsonl.gz', Buffer.from('zero'), meta(0));
    await stage.put('stage/u/r1/000000.jsonl.gz', Buffer.from('other'), { ...meta(0), tap: 'u' });
    expect(await stage.list('stage/t/')).toEqual([
      'stage/t/r1/000000.jsonl.gz',
      'stage/t/r1/000001.jsonl.gz',
    ]);
    expect(await text(await stage.open('stage/t/r1/000001.jsonl.gz'))).toBe('one');
    expect(await stage.metadata('stage/t/r1/000000.jsonl.gz')).toEqual(meta(0));
    expect(await stage.metadata('stage/t/r1/000009.jsonl.gz')).toBeUndefined();
    expect(readdirSync(join(root, 'stage/t/r1')).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  it('says clearly when a chunk is missing and refuses keys outside the folder', async () => {
    const stage = new FolderStage(temporaryFolder());
    await expect(stage.open('stage/t/r1/000000.jsonl.gz')).rejects.toThrow(ChunkNotFoundError);
    await expect(stage.put('../escape.jsonl.gz', Buffer.from(''), meta(0))).rejects.toThrow(
      /leaves the stage folder/,
    );
    expect(await stage.list('stage/none/')).toEqual([]);
  });

  it('prunes only chunks loaded longer ago than the retention; one not loaded stays, however old', async () => {
    const root = temporaryFolder();
    const stage = new FolderStage(root);
    await stage.put('stage/t/r1/000000.jsonl.gz', Buffer.from('zero'), meta(0));
    await stage.put('stage/t/r1/000001.jsonl.gz', Buffer.from('one'), meta(1));
    await stage.put('stage/t/r1/000002.jsonl.gz', Buffer.from('two'), meta(2));
    await stage.markLoaded('stage/t/r1/000000.jsonl.gz');
    await stage.markLoaded('stage/t/r1/000001.jsonl.gz');
    expect(await stage.prune('stage/t/', 60_000)).toBe(0); // loaded just now: kept
    expect(await stage.prune('stage/t/', 60_000, Date.now() + 120_000)).toBe(2);
    expect(await stage.list('stage/t/')).toEqual(['stage/t/r1/000002.jsonl.gz']);
    expect(await stage.prune('stage/t/', 0, Date.now() + 10 * 86_400_000)).toBe(0);
  });
});
