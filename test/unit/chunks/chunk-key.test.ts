import { describe, expect, it } from 'vitest';
import { ChunkKeyError, chunkKey, parseChunkKey } from '../../../lib/chunks/chunk-key.ts';
import { comparePositions } from '../../../lib/chunks/chunk-position.ts';
import { newRunId } from '../../../lib/chunks/run-id.ts';

describe('chunk keys and run ids', () => {
  it('writes stage/<tap>/<run>/<seq 6 digits>.jsonl.gz and reads it back from paths and URIs', () => {
    const key = chunkKey({ tap: 'github-acme', run: '20260101T000000000Z-abcdef', seq: 7 });
    expect(key).toBe('stage/github-acme/20260101T000000000Z-abcdef/000007.jsonl.gz');
    expect(parseChunkKey(`/home/me/.tributary/${key}`)).toEqual({
      tap: 'github-acme',
      run: '20260101T000000000Z-abcdef',
      seq: 7,
      key,
    });
    expect(parseChunkKey(`s3://bucket/${key}`).seq).toBe(7);
    expect(() => parseChunkKey('/tmp/chunk.jsonl.gz')).toThrow(ChunkKeyError);
  });

  it('makes run ids that sort by run number, not by clock, and after the time-only ids of old versions', () => {
    const early = newRunId(9, new Date('2026-01-01T00:00:00.002Z'));
    const later = newRunId(10, new Date('2026-01-01T00:00:00.001Z'));
    expect(early < later).toBe(true);
    expect(early).toMatch(/^r0000000009-20260101T000000002Z-[0-9a-f]{6}$/);
    expect('20261231T235959999Z-ffffff' < early).toBe(true);
    expect(comparePositions({ run: early, seq: 9 }, { run: later, seq: 0 })).toBeLessThan(0);
  });
});
