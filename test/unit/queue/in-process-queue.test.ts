import { describe, expect, it } from 'vitest';
import { InProcessChunkQueue } from '../../../lib/queue/in-process-queue.ts';

const message = (tap: string, seq: number) => ({
  tap,
  run: 'r1',
  seq,
  key: `stage/${tap}/r1/${seq}`,
  records: 1,
  streams: [],
  previous: seq === 0 ? null : { run: 'r1', seq: seq - 1 },
});

describe('InProcessChunkQueue', () => {
  it('delivers each tap in order, one in flight per tap, and drops duplicate sends', async () => {
    const queue = new InProcessChunkQueue();
    await queue.send(message('a', 0));
    await queue.send(message('a', 1));
    await queue.send(message('a', 0)); // duplicate run:seq
    await queue.send(message('b', 0));
    const first = await queue.receive(10);
    expect(first.map((r) => `${r.message.tap}${r.message.seq}`)).toEqual(['a0', 'b0']);
    expect(await queue.receive(10)).toEqual([]); // a1 waits behind a0 in flight
    await queue.release(first[0]?.receipt ?? '');
    expect((await queue.receive(10)).map((r) => r.message.seq)).toEqual([0]); // a0 again, not a1
    expect(queue.depth('a')).toBe(2);
  });

  it('moves on after an ack', async () => {
    const queue = new InProcessChunkQueue();
    await queue.send(message('a', 0));
    await queue.send(message('a', 1));
    const [received] = await queue.receive();
    await queue.ack(received?.receipt ?? '');
    expect((await queue.receive()).map((r) => r.message.seq)).toEqual([1]);
    await expect(queue.ack(received?.receipt ?? '')).rejects.toThrow(/already settled/);
  });
});
