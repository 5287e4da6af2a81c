import { describe, expect, it } from 'vitest';
import { persistStream } from '../../../lib/persister/persist-stream.ts';
import { parseMessages } from '../../../lib/protocol/parser.ts';
import { MemoryDestination } from '../../../lib/testing/memory-destination.ts';

/** A Singer stream of `count` unkeyed records, each followed by a STATE. */
async function* singer(count: number): AsyncGenerator<string> {
  const lines = [
    JSON.stringify({ type: 'SCHEMA', stream: 'events', schema: { type: 'object' }, key_properties: [] }),
  ];
  for (let id = 1; id <= count; id += 1)
    lines.push(
      JSON.stringify({ type: 'RECORD', stream: 'events', record: { id } }),
      JSON.stringify({ type: 'STATE', value: { events: id } }),
    );
  yield `${lines.join('\n')}\n`;
}

async function commitsOf(destination: MemoryDestination, commitEvery?: number) {
  const bookmarks: unknown[] = [];
  const result = await persistStream(parseMessages(singer(10), { source: 'stdin' }), {
    destination,
    tap: 'app',
    ...(commitEvery === undefined ? {} : { commitEvery }),
    onCommit: (outcome) => {
      bookmarks.push(outcome.bookmark);
    },
  });
  expect(result.records).toBe(10);
  expect(destination.rows('app', 'events')).toHaveLength(10);
  return bookmarks;
}

describe('a message stream is committed at a STATE', () => {
  it('after 100,000 records when neither the user nor the destination says otherwise', async () => {
    expect(await commitsOf(new MemoryDestination())).toEqual([{ events: 10 }]);
  });

  it("after the destination's own number of records when the user does not give one", async () => {
    const destination = Object.assign(new MemoryDestination(), { commitEvery: 3 });
    expect(await commitsOf(destination)).toEqual([
      { events: 3 },
      { events: 6 },
      { events: 9 },
      { events: 10 },
    ]);
  });

  it("after the user's number of records, whatever the destination prefers", async () => {
    const destination = Object.assign(new MemoryDestination(), { commitEvery: 3 });
    expect(await commitsOf(destination, 4)).toEqual([{ events: 4 }, { events: 8 }, { events: 10 }]);
  });
});
