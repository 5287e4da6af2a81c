/**
 * FULL_TABLE: every page of the partition, every run. The bookmark is the next page while a pass is in
 * progress and `done` at its end; the streamer wraps the passes of all partitions in one table version.
 */
import type { JsonObject, Message } from '../../protocol/messages.ts';
import { isObject } from '../../protocol/parser.ts';
import { nextPage, type PageState } from '../pagination.ts';
import type { PartitionSync } from './partition-sync.ts';

export type FullTableBookmark = { resume: PageState } | { done: true };

export function fullTableDone(bookmark: JsonObject | undefined): boolean {
  return bookmark?.done === true;
}

export async function* syncFullTable<Config>(
  sync: PartitionSync<Config>,
): AsyncGenerator<Message, void, undefined> {
  const { stream, context } = sync;
  const request = stream.request;
  if (request === undefined) return;
  const paginate = stream.paginate;
  let page = isObject(sync.previous?.resume) ? (sync.previous.resume as PageState) : undefined;
  const save = (bookmark: FullTableBookmark) => sync.setBookmark(bookmark as JsonObject);
  for (;;) {
    const response = await sync.fetchPage(
      paginate === undefined ? request(context) : paginate.apply(request(context), page),
    );
    const records = sync.recordsOf(response.body);
    const next = nextPage(paginate, response, records, page, stream.name);
    yield* sync.emit(records);
    if (next === undefined) break;
    page = next;
    save({ resume: page });
    yield* sync.checkpoint();
  }
  save({ done: true });
  sync.beforeFinalCheckpoint();
  yield* sync.checkpoint();
}
