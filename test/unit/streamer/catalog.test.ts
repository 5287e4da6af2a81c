import { describe, expect, it } from 'vitest';
import {
  CatalogError,
  replicationMethodsFromCatalog,
  selectedStreamsFromCatalog,
} from '../../../lib/streamer/catalog.ts';

const entry = (stream: string, selected?: boolean, legacy?: boolean) => ({
  tap_stream_id: stream,
  stream,
  schema: { type: 'object', properties: {}, ...(legacy === undefined ? {} : { selected: legacy }) },
  metadata: selected === undefined ? [] : [{ breadcrumb: [], metadata: { selected } }],
});

describe("a catalog's stream selection, by Singer's rules (#14.10)", () => {
  it('selects what the root metadata marks, and the legacy schema.selected flag where there is none', () => {
    const catalog = {
      streams: [entry('a', true), entry('b', false), entry('c', undefined, true), entry('d')],
    };
    expect(selectedStreamsFromCatalog(catalog, 'c.json', ['a', 'b', 'c', 'd'])).toEqual(['a', 'c']);
  });

  it('syncs nothing unmarked: a catalog that selects no stream is refused, saying how to select', () => {
    expect(() =>
      selectedStreamsFromCatalog({ streams: [entry('a'), entry('b')] }, 'c.json', ['a', 'b']),
    ).toThrow(
      /no stream is selected, so nothing would sync\. Mark the streams to sync with "selected": true/,
    );
  });

  it('refuses a catalog that names only streams the tap does not have, listing the ones it has', () => {
    expect(() => selectedStreamsFromCatalog({ streams: [entry('x', true)] }, 'c.json', ['a', 'b'])).toThrow(
      CatalogError,
    );
    expect(() => selectedStreamsFromCatalog({ streams: [entry('x', true)] }, 'c.json', ['a', 'b'])).toThrow(
      /names only streams this tap does not have \(x\)\. Its streams: a, b/,
    );
  });

  it("reads each stream's replication-method from its root metadata", () => {
    const catalog = {
      streams: [
        {
          tap_stream_id: 'a',
          metadata: [{ breadcrumb: [], metadata: { 'replication-method': 'FULL_TABLE' } }],
        },
        {
          tap_stream_id: 'b',
          metadata: [{ breadcrumb: [], metadata: { 'replication-method': 'LOG_BASED' } }],
        },
        { tap_stream_id: 'c', metadata: [] },
      ],
    };
    expect(replicationMethodsFromCatalog(catalog)).toEqual({ a: 'FULL_TABLE' });
  });
});
