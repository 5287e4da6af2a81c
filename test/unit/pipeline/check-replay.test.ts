/**
 * `trib replay`'s rule, from the run protocol: only a chunk on the tap's chain may load. A chain
 * r1/0 → r1/1 → r2/0 → r2/1 with orphans beside it (r1/2 follows r1/1, as r2/0 does; r2/2 follows r2/1
 * but was never recorded), committed through r2/0 and staged through r2/1.
 */
import { describe, expect, it } from 'vitest';
import { chunkKey } from '../../../lib/chunks/chunk-key.ts';
import type { ChunkPosition } from '../../../lib/chunks/chunk-position.ts';
import { checkReplay } from '../../../lib/pipeline/run-protocol.ts';
import type { TapState } from '../../../lib/state/state-store.ts';
import { MemoryStage } from '../../../lib/testing/memory-stage.ts';

const at = (run: string, seq: number): ChunkPosition => ({ run, seq });

async function stageOf(links: readonly [ChunkPosition, ChunkPosition | null][]): Promise<MemoryStage> {
  const stage = new MemoryStage();
  for (const [position, previous] of links)
    await stage.put(chunkKey({ tap: 't', ...position }), Buffer.from(''), {
      tap: 't',
      ...position,
      records: 1,
      streams: ['s'],
      previous,
    });
  return stage;
}

const state: TapState = {
  tap: 't',
  runs: 2,
  fence: 3,
  committed: { ...at('r2', 0), bookmark: { cursor: 3 }, at: 'then' },
  staged: { ...at('r2', 1), bookmark: { cursor: 4 }, at: 'then' },
};

const chain: [ChunkPosition, ChunkPosition | null][] = [
  [at('r1', 0), null],
  [at('r1', 1), at('r1', 0)],
  [at('r1', 2), at('r1', 1)], // orphan behind the committed chunk
  [at('r2', 0), at('r1', 1)],
  [at('r2', 1), at('r2', 0)],
  [at('r2', 2), at('r2', 1)], // orphan after the staged chunk
];

describe('checkReplay', () => {
  it('allows the chunks of the chain, committed or waiting', async () => {
    const stage = await stageOf(chain);
    for (const position of [at('r1', 0), at('r1', 1), at('r2', 0), at('r2', 1)])
      expect(await checkReplay(stage, state, position), JSON.stringify(position)).toEqual({ ok: true });
  });

  it('refuses an orphan behind the committed chunk, saying a later run read its records again', async () => {
    const check = await checkReplay(await stageOf(chain), state, at('r1', 2));
    expect(check.ok).toBe(false);
    expect(check.ok === false && check.reason).toMatch(
      /chunk r1\/000002 of tap t was never recorded as staged .*: a later run read its records again \(the tap is committed through r2\/000000\)/,
    );
  });

  it('refuses an orphan after the staged chunk, naming where the chain continues', async () => {
    const check = await checkReplay(await stageOf(chain), state, at('r2', 2));
    expect(check.ok === false && check.reason).toMatch(
      /its records are read again by the tap's next run, so it is not loaded\. Nothing to do; the tap's chain continues from r2\/000001/,
    );
  });

  it('leaves a chunk behind an expired one to the ledger (the walk cannot tell); one the walk passes is still refused', async () => {
    const stage = await stageOf(chain.filter(([position]) => !(position.run === 'r1' && position.seq === 1)));
    expect(await checkReplay(stage, state, at('r1', 0))).toEqual({ ok: true });
    // r2/0 names r1/1 as its predecessor: r1/2, between them, is off the chain without reading r1/1.
    expect((await checkReplay(stage, state, at('r1', 2))).ok).toBe(false);
  });

  it('leaves a dropped chunk to the load, which reports it dropped', async () => {
    const rewound: TapState = {
      ...state,
      staged: { ...at('r2', 0), bookmark: { cursor: 3 }, at: 'then' },
      dropped: [{ after: at('r2', 0), through: at('r2', 1), at: 'then' }],
    };
    expect(await checkReplay(await stageOf(chain), rewound, at('r2', 1))).toEqual({ ok: true });
  });
});
