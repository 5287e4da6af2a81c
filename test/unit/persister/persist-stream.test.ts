import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persistStream } from '../../../lib/persister/persist-stream.ts';
import { parseMessageBatches } from '../../../lib/protocol/parser.ts';
import { MemoryDestination } from '../../../lib/testing/memory-destination.ts';

/** A Singer stream of `count` unkeyed records, each followed by a STATE. */
async function* singer(count: number): AsyncGenerator<string> {
  yield singerText(count);
}

function singerText(count: number): string {
  const lines = [
    JSON.stringify({ type: 'SCHEMA', stream: 'events', schema: { type: 'object' }, key_properties: [] }),
  ];
  for (let id = 1; id <= count; id += 1)
    lines.push(
      JSON.stringify({ type: 'RECORD', stream: 'events', record: { id } }),
      JSON.stringify({ type: 'STATE', value: { events: id } }),
    );
  return `${lines.join('\n')}\n`;
}

async function commitsOf(destination: MemoryDestination, commitEvery?: number) {
  const bookmarks: unknown[] = [];
  const result = await persistStream(parseMessageBatches(singer(10), { source: 'stdin' }), {
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

describe('a message stream read in batches', () => {
  it('commits at the same STATEs and loads every record once, wherever the input pieces break', async () => {
    const text = singerText(12);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 13 }),
        async (cuts, commitEvery) => {
          const ends = [...cuts.sort((a, b) => a - b), text.length];
          const pieces = ends.map((end, index) => text.slice(index === 0 ? 0 : ends[index - 1], end));
          const destination = new MemoryDestination();
          const bookmarks: unknown[] = [];
          const input = (async function* () {
            yield* pieces;
          })();
          await persistStream(parseMessageBatches(input, { source: 'stdin' }), {
            destination,
            tap: 'app',
            commitEvery,
            onCommit: (outcome) => {
              bookmarks.push(outcome.bookmark);
            },
          });
          const expected = [];
          for (let id = commitEvery; id < 12; id += commitEvery) expected.push({ events: id });
          expected.push({ events: 12 });
          expect(bookmarks).toEqual(expected);
          expect(destination.rows('app', 'events').map((row) => row.id)).toEqual(
            Array.from({ length: 12 }, (_, index) => index + 1),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
