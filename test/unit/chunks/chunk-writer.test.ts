import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ChunkWriter, type ClosedChunk } from '../../../lib/chunks/chunk-writer.ts';
import type { Message } from '../../../lib/protocol/index.ts';
import { parseAll, plain } from '../../helpers/messages.ts';

const schemaOf = (stream: string): Message => ({
  type: 'SCHEMA',
  stream,
  schema: { type: 'object' },
  keyProperties: [],
});
const recordOf = (stream: string, id: number): Message => ({ type: 'RECORD', stream, record: { id } });
const stateOf = (value: unknown): Message => ({ type: 'STATE', value });

async function collect(messages: Message[], options: ConstructorParameters<typeof ChunkWriter>[1] = {}) {
  const chunks: ClosedChunk[] = [];
  const writer = new ChunkWriter(async (chunk) => {
    chunks.push(chunk);
  }, options);
  for (const message of messages) await writer.write(message);
  await writer.end();
  return Promise.all(
    chunks.map(async (chunk) => ({
      ...chunk,
      messages: (await parseAll(gunzipSync(chunk.gzipBody))).map((p) => plain(p.message)),
    })),
  );
}

describe('ChunkWriter', () => {
  it('cuts only at a STATE once the record limit is passed, each chunk a complete Singer stream', async () => {
    const messages = [
      schemaOf('a'),
      recordOf('a', 1),
      recordOf('a', 2),
      recordOf('a', 3),
      stateOf(3),
      recordOf('a', 4),
      stateOf(4),
      schemaOf('b'),
      recordOf('b', 5),
      stateOf(5),
    ];
    const chunks = await collect(messages, { maxRecords: 2 });
    expect(chunks.map((chunk) => chunk.seq)).toEqual([0, 1]);
    expect(chunks.map((chunk) => chunk.bookmark)).toEqual([3, 5]);
    expect(chunks[0]?.messages).toEqual([
      schemaOf('a'),
      recordOf('a', 1),
      recordOf('a', 2),
      recordOf('a', 3),
      stateOf(3),
    ]);
    // the second chunk re-declares stream a's schema so it stands alone
    expect(chunks[1]?.messages).toEqual([
      schemaOf('a'),
      recordOf('a', 4),
      stateOf(4),
      schemaOf('b'),
      recordOf('b', 5),
      stateOf(5),
    ]);
    expect([...(chunks[1]?.recordsByStream ?? [])]).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    for (const chunk of chunks) expect((chunk.messages.at(-1) as Message | undefined)?.type).toBe('STATE');
  });

  it('cuts on uncompressed size too', async () => {
    const big = { type: 'RECORD', stream: 'a', record: { text: 'x'.repeat(2000) } } as Message;
    const chunks = await collect([schemaOf('a'), big, stateOf(1), big, stateOf(2), big, stateOf(3)], {
      maxBytes: 2000,
    });
    expect(chunks.map((chunk) => chunk.records)).toEqual([1, 1, 1]);
  });

  it('closes records after the last STATE with the last bookmark, so they are re-read, not lost', async () => {
    const chunks = await collect([schemaOf('a'), recordOf('a', 1), stateOf(1), recordOf('a', 2)], {
      maxRecords: 100,
    });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.messages.slice(-2)).toEqual([recordOf('a', 2), stateOf(1)]);
  });

  it('writes held-back lines exactly, in order, with their counts: several streams, a changed SCHEMA, unicode, a line over 64 KB, past the 8 MB hold', async () => {
    const text = (id: number) => ({ id, text: `Zoë 東京 🚀 ${'x'.repeat(id % 7 === 0 ? 70_000 : 10)}` });
    const messages: Message[] = [schemaOf('a'), schemaOf('b')];
    let ids = 0;
    const records = (count: number) => {
      for (let index = 0; index < count; index += 1) {
        ids += 1;
        messages.push({ type: 'RECORD', stream: ids % 3 === 0 ? 'b' : 'a', record: text(ids) });
      }
    };
    records(20);
    messages.push({
      type: 'SCHEMA',
      stream: 'b',
      schema: { type: 'object', properties: {} },
      keyProperties: [],
    });
    records(5);
    messages.push(stateOf(1));
    // More than 8 MB between two STATEs is written through rather than held.
    records(1_000);
    messages.push(stateOf(2));
    records(3);
    const chunks = await collect(messages, { maxRecords: 1_000_000 });
    expect(chunks).toHaveLength(1);
    const written = chunks[0]?.messages ?? [];
    expect(written).toEqual([...messages.map(plain), stateOf(2)]);
    const byStream = (stream: string) =>
      messages.filter((message) => message.type === 'RECORD' && message.stream === stream).length;
    expect(chunks[0]?.records).toBe(ids);
    expect(Object.fromEntries(chunks[0]?.recordsByStream ?? [])).toEqual({
      a: byStream('a'),
      b: byStream('b'),
    });
  });

  it('makes no chunk when nothing new came and the bookmark did not move', async () => {
    expect(await collect([schemaOf('a'), stateOf(7)], { startBookmark: 7 })).toEqual([]);
    const moved = await collect([schemaOf('a'), stateOf(8)], { startBookmark: 7 });
    expect(moved.map((chunk) => chunk.messages)).toEqual([[schemaOf('a'), stateOf(8)]]);
  });

  it('numbers chunks from firstSeq (a continuation of a run)', async () => {
    const chunks = await collect(
      [schemaOf('a'), recordOf('a', 1), stateOf(1), recordOf('a', 2), stateOf(2)],
      { maxRecords: 1, firstSeq: 4 },
    );
    expect(chunks.map((chunk) => chunk.seq)).toEqual([4, 5]);
  });
});
