/**
 * Streams with `getRecords`: the stream yields records and sets its own bookmark; the SDK batches them
 * and emits a STATE every `stateEvery` records or when the stream asks for one.
 */
import type { JsonObject, Message } from '../../protocol/messages.ts';
import type { PartitionSync } from './partition-sync.ts';

export async function* syncCustomRecords<Config>(
  sync: PartitionSync<Config>,
): AsyncGenerator<Message, void, undefined> {
  const { stream } = sync;
  const getRecords = stream.getRecords;
  if (getRecords === undefined) return;
  let current = sync.previous;
  let sinceState = 0;
  let wantState = false;
  const every = stream.stateEvery ?? 1000;
  const buffer: JsonObject[] = [];
  const settle = () => {
    if (current !== undefined) sync.setBookmark(current);
  };
  const flush = async function* (): AsyncGenerator<Message, void, undefined> {
    yield* sync.emit(buffer.splice(0));
    settle();
    sinceState = 0;
    wantState = false;
    yield* sync.checkpoint();
  };
  for await (const record of getRecords({
    ...sync.context,
    bookmark: sync.previous,
    advance: (bookmark) => {
      current = bookmark;
    },
    checkpoint: () => {
      wantState = true;
    },
  })) {
    // A checkpoint asked for before this record covers only the records before it.
    if (wantState) yield* flush();
    buffer.push(record);
    sinceState += 1;
    if (sinceState >= every) yield* flush();
  }
  yield* sync.emit(buffer.splice(0));
  settle();
  sync.beforeFinalCheckpoint();
  yield* sync.checkpoint();
}
