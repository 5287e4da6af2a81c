import { describe, expect, it } from 'vitest';
import { BOUNDARY_LIMIT, Boundary } from '../../../lib/streamer/sync/boundary.ts';

const at = '2026-01-01T00:00:00Z';

describe('the boundary of records read at one value', () => {
  it('skips a record read at the value, not an edit of it nor a record at another value', () => {
    const boundary = Boundary.empty();
    boundary.add(at, { id: 1, title: 'a', at }, ['id']);
    expect(boundary.has(at, { id: 1, title: 'a', at }, ['id'])).toBe(true);
    expect(boundary.has(at, { at, title: 'a', id: 1 }, ['id'])).toBe(true); // key order does not matter
    expect(boundary.has(at, { id: 1, title: 'edited', at }, ['id'])).toBe(false);
    expect(boundary.has('2026-01-01T00:00:01Z', { id: 1, title: 'a', at }, ['id'])).toBe(false);
  });

  it('tells unkeyed records apart by their content', () => {
    const boundary = Boundary.empty();
    boundary.add(at, { event: 'click', at }, []);
    expect(boundary.has(at, { event: 'click', at }, [])).toBe(true);
    expect(boundary.has(at, { event: 'view', at }, [])).toBe(false);
  });

  it('starts again at a larger value, keeps its value for a smaller one, and survives a bookmark', () => {
    const boundary = Boundary.empty();
    boundary.add(at, { id: 1 }, ['id']);
    boundary.add('2026-01-02T00:00:00Z', { id: 2 }, ['id']);
    boundary.add(at, { id: 3 }, ['id']);
    expect(boundary.value).toBe('2026-01-02T00:00:00Z');
    const read = Boundary.of(boundary.value, JSON.parse(JSON.stringify(boundary.keys)));
    expect(read.has('2026-01-02T00:00:00Z', { id: 2 }, ['id'])).toBe(true);
    expect(read.has('2026-01-02T00:00:00Z', { id: 1 }, ['id'])).toBe(false);
    read.moveTo('2026-01-03T00:00:00Z');
    expect(read.keys).toEqual([]);
  });

  it('stays small: past the limit a record may be read twice, never missed', () => {
    const boundary = Boundary.empty();
    for (let id = 0; id < BOUNDARY_LIMIT + 10; id += 1) boundary.add(at, { id }, ['id']);
    expect(boundary.keys).toHaveLength(BOUNDARY_LIMIT);
    expect(boundary.has(at, { id: BOUNDARY_LIMIT + 5 }, ['id'])).toBe(false);
  });
});
