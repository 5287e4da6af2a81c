/**
 * One suite every destination passes: the same chunks, the same expected warehouse contents.
 * Each test uses its own tap (so its own schema) and needs nothing from the others.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Destination } from '../../lib/destinations/destination.ts';
import { loadChunks } from '../../lib/persister/load-chunks.ts';
import { ChunkGapError, RecordValidationError } from '../../lib/persister/persister-errors.ts';
import { hasAtMostDecimalPlaces } from '../../lib/persister/schema-dialects.ts';
import { parseJsonExactly, stringifyExact } from '../../lib/protocol/exact-json.ts';
import { parseMessageBatches } from '../../lib/protocol/parser.ts';
import { FaultyDestination, InjectedFault } from '../../lib/testing/faulty-destination.ts';
import { chunkOf, record, schema, state } from '../helpers/chunks.ts';
import { repoRoot } from '../helpers/paths.ts';
import type { DestinationHarness } from './harness.ts';

const idName = { id: { type: 'integer' }, name: { type: ['null', 'string'] } };

export function destinationConformance(harness: DestinationHarness): void {
  describe(`destination conformance: ${harness.name}`, () => {
    let destination: Destination;
    beforeAll(async () => {
      destination = await harness.open();
    });
    afterAll(async () => {
      await destination?.close();
      await harness.cleanUp();
    });
    const load = (tap: string, ...chunks: ReturnType<typeof chunkOf>[]) =>
      loadChunks(tap, chunks, { destination });
    const text = (tap: string, stream: string, columns: string[], orderBy = 'id') =>
      harness.text(destination, tap, stream, columns, orderBy);

    it('loads a basic chunk and writes its ledger row with the bookmark', async () => {
      const [outcome] = await load(
        'basic',
        chunkOf('basic', 'r1', 0, [
          schema('people', idName, ['id']),
          record('people', { id: 1, name: 'Ada' }),
          record('people', { id: 2, name: 'Grace' }),
          state({ p: 2 }),
        ]),
      );
      expect(outcome).toMatchObject({
        status: 'loaded',
        records: 2,
        bookmark: { p: 2 },
        counts: { people: { inserted: 2, updated: 0, deleted: 0 } },
      });
      expect(await text('basic', 'people', ['id', 'name'])).toEqual([
        ['1', 'Ada'],
        ['2', 'Grace'],
      ]);
      expect(await destination.ledger('basic')).toMatchObject([
        { tap: 'basic', run: 'r1', seq: 0, bookmark: { p: 2 }, records: 2 },
      ]);
      expect(await harness.columns(destination, 'basic', 'people')).toEqual(
        expect.arrayContaining(['id', 'name', '_tributary_loaded_at', '_tributary_run', '_tributary_seq']),
      );
    });

    it('loads a 64 MB record beside small ones, under the default memory limit', async () => {
      const blob = 'x'.repeat(64 * 1024 * 1024);
      const [outcome] = await load(
        'bigline',
        chunkOf('bigline', 'r1', 0, [
          schema('people', idName, ['id']),
          record('people', { id: 1, name: blob }),
          record('people', { id: 2, name: 'Grace' }),
          state({ p: 2 }),
        ]),
      );
      expect(outcome).toMatchObject({ status: 'loaded', records: 2 });
      const rows = await text('bigline', 'people', ['id', 'name']);
      expect(rows.map(([id, name]) => [id, name?.length])).toEqual([
        ['1', blob.length],
        ['2', 5],
      ]);
    });

    it('keeps the bookmark exact in the ledger: a 19-digit since_id and a 64-bit LSN as written (#14.3)', async () => {
      const bookmark = '{"since_id":1234567890123456789,"lsn":18446744073709551615}';
      const text = `${JSON.stringify(schema('people', idName, ['id']))}\n{"type":"STATE","value":${bookmark}}\n`;
      const [outcome] = await load('exactstate', chunkOf('exactstate', 'r1', 0, text));
      expect(stringifyExact(outcome?.status === 'loaded' ? outcome.bookmark : undefined)).toBe(bookmark);
      // PostgreSQL's jsonb orders keys its own way; the numbers must be the same digits.
      const [entry] = await destination.ledger('exactstate');
      expect(entry?.bookmark).toEqual(parseJsonExactly(bookmark));
      const transaction = await destination.begin('exactstate');
      try {
        expect(await transaction.loaded({ run: 'r1', seq: 0 })).toEqual({
          bookmark: parseJsonExactly(bookmark),
        });
      } finally {
        await transaction.rollback();
      }
    });

    it('upserts keyed streams: the last record of a key in the chunk wins, across chunks too', async () => {
      await load(
        'upsert',
        chunkOf('upsert', 'r1', 0, [
          schema('people', idName, ['id']),
          record('people', { id: 1, name: 'a' }),
          record('people', { id: 1, name: 'b' }),
          record('people', { id: 2, name: 'c' }),
          state(1),
        ]),
      );
      const [second] = await load(
        'upsert',
        chunkOf('upsert', 'r1', 1, [
          schema('people', idName, ['id']),
          record('people', { id: 2, name: 'd' }),
          record('people', { id: 3, name: 'e' }),
          state(2),
        ]),
      );
      expect(await text('upsert', 'people', ['id', 'name', '_tributary_seq'])).toEqual([
        ['1', 'b', '0'],
        ['2', 'd', '1'],
        ['3', 'e', '1'],
      ]);
      expect(second?.counts).toEqual({ people: { inserted: 1, updated: 1, deleted: 0 } });
    });

    it('loads a batch of chunks in one transaction: each its own ledger row, counts and seq; a chunk given twice is skipped', async () => {
      // Each chunk's statements run while the next is read; the counts and rows must still be its own.
      const chunk = (seq: number, ids: readonly number[]) =>
        chunkOf('batch', 'r1', seq, [
          schema('people', idName, ['id']),
          schema('events', idName, []),
          ...ids.flatMap((id) => [
            record('people', { id, name: `p${seq}` }),
            record('events', { id, name: `e${seq}` }),
          ]),
          state(seq),
        ]);
      const outcomes = await load(
        'batch',
        chunk(0, [1, 2]),
        chunk(1, [2, 3]),
        chunk(1, [2, 3]),
        chunk(2, [1]),
      );
      expect(
        outcomes.map((outcome) => [outcome.seq, outcome.status, outcome.records, outcome.bookmark]),
      ).toEqual([
        [0, 'loaded', 4, 0],
        [1, 'loaded', 4, 1],
        [1, 'skipped', 0, 1],
        [2, 'loaded', 2, 2],
      ]);
      expect(outcomes.map((outcome) => outcome.counts.people)).toEqual([
        { inserted: 2, updated: 0, deleted: 0 },
        { inserted: 1, updated: 1, deleted: 0 },
        undefined,
        { inserted: 0, updated: 1, deleted: 0 },
      ]);
      expect(await text('batch', 'people', ['id', 'name', '_tributary_seq'])).toEqual([
        ['1', 'p2', '2'],
        ['2', 'p1', '1'],
        ['3', 'p1', '1'],
      ]);
      // Unkeyed: a chunk loaded twice would show here, where no upsert hides it.
      expect(await text('batch', 'events', ['id', 'name', '_tributary_seq'], 'name, id')).toEqual([
        ['1', 'e0', '0'],
        ['2', 'e0', '0'],
        ['2', 'e1', '1'],
        ['3', 'e1', '1'],
        ['1', 'e2', '2'],
      ]);
      expect((await destination.ledger('batch')).map((entry) => [entry.seq, entry.records])).toEqual([
        [0, 4],
        [1, 4],
        [2, 2],
      ]);
    });

    it('loads nothing of a batch with a gap in it, though the chunks before the gap could load', async () => {
      const chunk = (seq: number) =>
        chunkOf('batchgap', 'r1', seq, [
          schema('events', idName, []),
          record('events', { id: seq }),
          state(seq),
        ]);
      await expect(load('batchgap', chunk(0), chunk(1), chunk(3))).rejects.toThrow(ChunkGapError);
      expect(await destination.ledger('batchgap')).toEqual([]);
      // The chunks before it load on their own, and the gap stays refused.
      expect((await load('batchgap', chunk(0), chunk(1))).map((outcome) => outcome.status)).toEqual([
        'loaded',
        'loaded',
      ]);
      await expect(load('batchgap', chunk(3))).rejects.toThrow(ChunkGapError);
      expect(await text('batchgap', 'events', ['id'])).toEqual([['0'], ['1']]);
    });

    it('upserts on composite keys', async () => {
      const properties = { org: { type: 'string' }, id: { type: 'integer' }, v: { type: 'string' } };
      await load(
        'composite',
        chunkOf('composite', 'r1', 0, [
          schema('t', properties, ['org', 'id']),
          record('t', { org: 'a', id: 1, v: 'x' }),
          record('t', { org: 'b', id: 1, v: 'y' }),
          state(1),
        ]),
      );
      await load(
        'composite',
        chunkOf('composite', 'r1', 1, [
          schema('t', properties, ['org', 'id']),
          record('t', { org: 'a', id: 1, v: 'z' }),
          state(2),
        ]),
      );
      expect(await text('composite', 't', ['org', 'id', 'v'], 'org, id')).toEqual([
        ['a', '1', 'z'],
        ['b', '1', 'y'],
      ]);
    });

    it('appends unkeyed streams, keeping duplicates and their order', async () => {
      const events = { id: { type: 'integer' }, kind: { type: 'string' } };
      await load(
        'append',
        chunkOf('append', 'r1', 0, [
          schema('events', events),
          record('events', { id: 1, kind: 'a' }),
          record('events', { id: 1, kind: 'a' }),
          state(1),
        ]),
      );
      await load(
        'append',
        chunkOf('append', 'r1', 1, [
          schema('events', events),
          record('events', { id: 2, kind: 'b' }),
          state(2),
        ]),
      );
      expect(await text('append', 'events', ['id', 'kind'], 'id, _tributary_seq')).toEqual([
        ['1', 'a'],
        ['1', 'a'],
        ['2', 'b'],
      ]);
    });

    it('ACTIVATE_VERSION replaces a full-table stream atomically, across chunks', async () => {
      const s = schema('plans', idName, ['id']);
      await load(
        'versions',
        chunkOf('versions', 'r1', 0, [
          s,
          { type: 'ACTIVATE_VERSION', stream: 'plans', version: 1 },
          record('plans', { id: 1, name: 'old' }, 1),
          record('plans', { id: 2, name: 'gone' }, 1),
          { type: 'ACTIVATE_VERSION', stream: 'plans', version: 1 },
          state(1),
        ]),
      );
      // version 2 spans two chunks: after the first, version 1's rows are still there
      await load(
        'versions',
        chunkOf('versions', 'r2', 0, [s, record('plans', { id: 3, name: 'new' }, 2), state(2)]),
      );
      expect(await text('versions', 'plans', ['id'])).toEqual([['1'], ['2'], ['3']]);
      const [last] = await load(
        'versions',
        chunkOf('versions', 'r2', 1, [
          s,
          record('plans', { id: 1, name: 'kept' }, 2),
          { type: 'ACTIVATE_VERSION', stream: 'plans', version: 2 },
          state(3),
        ]),
      );
      expect(await text('versions', 'plans', ['id', 'name'])).toEqual([
        ['1', 'kept'],
        ['3', 'new'],
      ]);
      expect(last?.counts.plans?.deleted).toBe(1);
    });

    it('adds new columns when the schema grows, keeping the old rows', async () => {
      await load(
        'grow',
        chunkOf('grow', 'r1', 0, [schema('t', idName, ['id']), record('t', { id: 1, name: 'a' }), state(1)]),
      );
      await load(
        'grow',
        chunkOf('grow', 'r1', 1, [
          schema('t', { ...idName, email: { type: 'string' } }, ['id']),
          record('t', { id: 2, name: 'b', email: 'b@x' }),
          state(2),
        ]),
      );
      expect(await text('grow', 't', ['id', 'name', 'email'])).toEqual([
        ['1', 'a', null],
        ['2', 'b', 'b@x'],
      ]);
    });

    it('keeps the old column and adds a typed one when a type changes; no data is lost', async () => {
      await load(
        'retype',
        chunkOf('retype', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, code: { type: 'integer' } }, ['id']),
          record('t', { id: 1, code: 7 }),
          state(1),
        ]),
      );
      await load(
        'retype',
        chunkOf('retype', 'r1', 1, [
          schema('t', { id: { type: 'integer' }, code: { type: 'string' } }, ['id']),
          record('t', { id: 2, code: 'X7' }),
          state(2),
        ]),
      );
      expect(await harness.columns(destination, 'retype', 't')).toEqual(
        expect.arrayContaining(['code', 'code__string']),
      );
      expect(await text('retype', 't', ['id', 'code', 'code__string'])).toEqual([
        ['1', '7', null],
        ['2', null, 'X7'],
      ]);
    });

    it('changes a schema mid-chunk: rows before and after the change both land', async () => {
      await load(
        'midchunk',
        chunkOf('midchunk', 'r1', 0, [
          schema('t', idName, ['id']),
          record('t', { id: 1, name: 'a' }),
          schema('t', { ...idName, extra: { type: 'boolean' } }, ['id']),
          record('t', { id: 2, name: 'b', extra: true }),
          state(1),
        ]),
      );
      expect(await text('midchunk', 't', ['id', 'name', 'extra'])).toEqual([
        ['1', 'a', null],
        ['2', 'b', 'true'],
      ]);
    });

    it('stores nested objects and arrays as JSON', async () => {
      const value = { a: { b: [1, 'two', { c: null }] }, list: [] };
      await load(
        'nested',
        chunkOf('nested', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, doc: { type: 'object' }, tags: { type: 'array' } }, ['id']),
          record('t', { id: 1, doc: value, tags: ['x', 'y'] }),
          state(1),
        ]),
      );
      expect(await harness.json(destination, 'nested', 't', 'doc', 'id')).toEqual([value]);
      expect(await harness.json(destination, 'nested', 't', 'tags', 'id')).toEqual([['x', 'y']]);
    });

    it('keeps unicode intact: accents, CJK, emoji, quotes and newlines', async () => {
      const names = ['Zoë Ångström', '東京', '🚀 rocket', 'O\'Brien "quoted"', 'line\nbreak\ttab\\slash'];
      await load(
        'unicode',
        chunkOf('unicode', 'r1', 0, [
          schema('t', idName, ['id']),
          ...names.map((name, i) => record('t', { id: i, name })),
          state(1),
        ]),
      );
      expect((await text('unicode', 't', ['name'])).map(([name]) => name)).toEqual(names);
    });

    it('loads the text of the bytes read: characters split between reads, a byte order mark, invalid UTF-8 as U+FFFD', async () => {
      const names = ['Zoë Ångström', '東京', '🚀 rocket', 'plain'];
      const lines = [
        JSON.stringify(schema('t', idName, ['id'])),
        ...names.map((name, i) => JSON.stringify(record('t', { id: i, name }))),
      ].join('\n');
      // One record holds bytes that are not UTF-8 (a lone continuation byte, a cut-off 4-byte form).
      const invalid = Buffer.concat([
        Buffer.from(`\n{"type":"RECORD","stream":"t","record":{"id":9,"name":"a`),
        Buffer.from([0x80, 0x62, 0xf0, 0x9f, 0x9a]),
        Buffer.from(`"}}\n${JSON.stringify(state(1))}\n`),
      ]);
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines), invalid]);
      // Pieces of 3 bytes: every multi-byte character and most lines arrive in parts.
      const pieces = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) =>
        bytes.subarray(i * 3, i * 3 + 3),
      );
      await load('bytes', {
        ...chunkOf('bytes', 'r1', 0, []),
        messages: () => parseMessageBatches(Readable.from(pieces), { source: 'test:bytes' }),
      });
      expect((await text('bytes', 't', ['name'])).map(([name]) => name)).toEqual([
        ...names,
        'a\ufffdb\ufffd',
      ]);
    });

    it('keeps tabs, newlines, quotes and backslashes inside JSON columns, beside plain strings without them', async () => {
      const docs = [
        { note: 'line\nbreak\ttab "quoted" back\\slash\r' },
        { note: 'plain' },
        ['a\tb', { c: '\\' }],
      ];
      await load(
        'escapes',
        chunkOf('escapes', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, name: { type: 'string' }, doc: {} }, ['id']),
          ...docs.map((doc, i) => record('t', { id: i, name: `plain ${i}`, doc })),
          state(1),
        ]),
      );
      expect(await harness.json(destination, 'escapes', 't', 'doc', 'id')).toEqual(docs);
      expect((await text('escapes', 't', ['name'])).map(([name]) => name)).toEqual([
        'plain 0',
        'plain 1',
        'plain 2',
      ]);
    });

    it('round-trips integers beyond 2^53 and long decimals exactly', async () => {
      const lines = [
        JSON.stringify(
          schema(
            't',
            {
              id: { type: 'integer' },
              big: { type: 'integer' },
              price: { type: 'number', multipleOf: 1e-12 },
              doc: { type: 'object' },
            },
            ['id'],
          ),
        ),
        '{"type":"RECORD","stream":"t","record":{"id":1,"big":9007199254740993,"price":123456.789012345678,"doc":{"n":9223372036854775807}}}',
        '{"type":"RECORD","stream":"t","record":{"id":2,"big":-9223372036854775808,"price":0.000000000001,"doc":{"n":1}}}',
        '{"type":"STATE","value":1}',
      ].join('\n');
      await load('exact', chunkOf('exact', 'r1', 0, lines));
      const rows = await text('exact', 't', ['big', 'price']);
      expect(rows.map(([big]) => big)).toEqual(['9007199254740993', '-9223372036854775808']);
      expect(rows.map(([, price]) => price?.replace(/0+$/, ''))).toEqual([
        '123456.789012345678',
        '0.000000000001',
      ]);
      const docs = await harness.text(destination, 'exact', 't', ['doc'], 'id');
      expect(docs[0]?.[0]?.replaceAll(' ', '')).toBe('{"n":9223372036854775807}');
    });

    it('stores every decimal a double carries exactly, whatever its magnitude, in batches of any mix (property)', async () => {
      // DuckDB reads a batch's decimals straight from the number when all of them survive its double,
      // and as text otherwise: both paths, and the boundary between them (2^50 scaled), must agree.
      const scaled = (scale: number) =>
        fc
          .tuple(fc.integer({ min: 0, max: 20 }), fc.double({ min: 1, max: 10, noNaN: true }), fc.boolean())
          .map(([exponent, mantissa, negative]) => {
            const value = Number((mantissa * 10 ** exponent * (negative ? -1 : 1)).toFixed(scale));
            return hasAtMostDecimalPlaces(value, scale) && Math.abs(value) < 1e21 ? value : 0;
          });
      const batches = fc
        .integer({ min: 0, max: 6 })
        .chain((scale) =>
          fc.tuple(fc.constant(scale), fc.array(scaled(scale), { minLength: 1, maxLength: 40 })),
        );
      let table = 0;
      await fc.assert(
        fc.asyncProperty(batches, async ([scale, values]) => {
          table += 1;
          const stream = `t${table}`;
          await load(
            'decimals',
            chunkOf('decimals', `r${table}`, 0, [
              schema(
                stream,
                { id: { type: 'integer' }, v: { type: 'number', multipleOf: Number(`1e-${scale}`) } },
                ['id'],
              ),
              ...values.map((v, id) => record(stream, { id, v })),
              state(table),
            ]),
          );
          const stored = (await text('decimals', stream, ['v'])).map(([v]) => v);
          expect(stored).toEqual(values.map((v) => decimalText(v, scale)));
        }),
        { numRuns: 25 },
      );
    });

    it('stores timestamps as instants, with and without offsets', async () => {
      const stamps = [
        '2024-03-01T10:00:00Z',
        '2024-03-01T12:00:00+02:00',
        '2024-03-01T05:00:00-05:00',
        '2024-03-01T10:00:00.123456Z',
      ];
      await load(
        'times',
        chunkOf('times', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } }, ['id']),
          ...stamps.map((at, i) => record('t', { id: i, at })),
          state(1),
        ]),
      );
      const instants = await harness.epochMs(destination, 'times', 't', 'at', 'id');
      expect(instants.map((ms) => Math.floor(ms ?? 0))).toEqual(stamps.map((at) => Date.parse(at)));
    });

    it('takes every date-time spelling the schema allows the same way: lower-case t and z, a leap second, a key with an offset (#12.14)', async () => {
      await load(
        'spellings',
        chunkOf('spellings', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } }, ['id']),
          record('t', { id: 1, at: '2024-03-01t10:00:00z' }),
          record('t', { id: 2, at: '2024-03-01T10:00:00.5z' }),
          record('t', { id: 3, at: '2016-12-31T23:59:60Z' }),
          record('t', { id: 4, at: '2024-03-01T10:00:00.1234567Z' }),
          schema('k', { at: { type: 'string', format: 'date-time' }, n: { type: 'integer' } }, ['at']),
          // Two spellings of one instant are one key: the later record wins, no "row affected twice".
          record('k', { at: '2024-03-01T12:00:00+02:00', n: 1 }),
          record('k', { at: '2024-03-01T10:00:00Z', n: 2 }),
          state(1),
        ]),
      );
      const instants = await harness.epochMs(destination, 'spellings', 't', 'at', 'id');
      expect(instants.map((ms) => Math.floor(ms ?? 0))).toEqual([
        Date.parse('2024-03-01T10:00:00Z'),
        Date.parse('2024-03-01T10:00:00.5Z'),
        Date.parse('2017-01-01T00:00:00Z'), // as PostgreSQL reads a leap second
        Date.parse('2024-03-01T10:00:00.123Z'),
      ]);
      expect(await text('spellings', 'k', ['n'], 'n')).toEqual([['2']]);
    });

    it('refuses, naming the property and what to do, values the column cannot hold, and commits nothing (#12.14)', async () => {
      const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
        [
          { type: 'string', format: 'date-time' },
          { v: '2024-02-30T10:00:00Z' },
          /property "v" "2024-02-30T10:00:00Z" is not a date-time: February 2024 has 29 days/,
        ],
        [
          { type: 'string', format: 'date' },
          { v: '2023-02-29' },
          /property "v" "2023-02-29" is not a date: February 2023 has 28 days/,
        ],
        [{ type: 'number', multipleOf: 0.01 }, { v: 1e40 }, /DECIMAL\(38,2\), which holds 36/],
      ];
      for (const [index, [property, values, message]] of cases.entries()) {
        const tap = `refused${index}`;
        const error = await load(
          tap,
          chunkOf(tap, 'r1', 0, [
            schema('t', { id: { type: 'integer' }, v: property }, ['id']),
            record('t', { id: 1, ...values }),
            state(1),
          ]),
        ).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(RecordValidationError);
        expect((error as Error).message).toMatch(message);
        expect(await destination.ledger(tap)).toEqual([]);
      }
      const wide = await load(
        'wide',
        chunkOf(
          'wide',
          'r1',
          0,
          '{"type":"SCHEMA","stream":"t","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":[]}\n{"type":"RECORD","stream":"t","record":{"id":123456789012345678901234567890}}\n{"type":"STATE","value":1}\n',
        ),
      ).catch((caught: unknown) => caught);
      expect((wide as Error).message).toMatch(
        /line 2: RECORD for stream "t": property "id" 123456789012345678901234567890 is beyond the 64-bit integers an integer column holds .* Declare the property's range in its schema/,
      );
      expect(await destination.ledger('wide')).toEqual([]);
    });

    it('keeps properties that differ only in case apart (Id and id), each in a column of its own', async () => {
      await load(
        'cased',
        chunkOf('cased', 'r1', 0, [
          schema('t', { Id: { type: 'integer' }, id: { type: 'integer' } }, ['id']),
          record('t', { Id: 10, id: 1 }),
          record('t', { Id: 20, id: 2 }),
          state(1),
        ]),
      );
      const columns = await harness.columns(destination, 'cased', 't');
      const upper = columns.find((column) => column.startsWith('id_'));
      expect(upper).toBeDefined();
      expect(await text('cased', 't', ['id', upper ?? ''])).toEqual([
        ['1', '10'],
        ['2', '20'],
      ]);
    });

    it('gives streams that sanitize alike (Orders, orders) tables of their own, and keeps every name once given (#12.15)', async () => {
      const int = { type: 'integer' };
      await load(
        'named',
        chunkOf('named', 'r1', 0, [
          schema('Orders', { id: int, Id: int }, ['id']),
          record('Orders', { id: 1, Id: 100 }),
          schema('orders', { id: int, note: { type: 'string' } }, ['id']),
          record('orders', { id: 1, note: 'lower' }),
          state(1),
        ]),
      );
      const tables = (await harness.tables(destination, 'named')).sort();
      const lower = tables.find((table) => /^orders_[0-9a-f]{8}$/.test(table)) ?? '';
      expect(tables).toEqual(['orders', lower]);
      const idColumn =
        (await harness.columns(destination, 'named', 'orders')).find((column) =>
          /^id_[0-9a-f]{8}$/.test(column),
        ) ?? '';
      expect(await text('named', 'orders', ['id', idColumn])).toEqual([['1', '100']]);
      expect(await text('named', lower, ['id', 'note'])).toEqual([['1', 'lower']]);
      // A later schema adds a property that collides too: it gets a column of its own, the others keep theirs.
      await load(
        'named',
        chunkOf('named', 'r1', 1, [
          schema('Orders', { id: int, Id: int, ID: int }, ['id']),
          record('Orders', { id: 2, Id: 200, ID: 2000 }),
          schema('orders', { id: int, note: { type: 'string' } }, ['id']),
          record('orders', { id: 2, note: 'again' }),
          state(2),
        ]),
      );
      const suffixed = (await harness.columns(destination, 'named', 'orders')).filter((column) =>
        /^id_[0-9a-f]{8}$/.test(column),
      );
      expect(suffixed).toHaveLength(2);
      expect(await text('named', 'orders', ['id', idColumn])).toEqual([
        ['1', '100'],
        ['2', '200'],
      ]);
      expect((await harness.tables(destination, 'named')).sort()).toEqual(tables);
      expect(await text('named', lower, ['id', 'note'])).toEqual([
        ['1', 'lower'],
        ['2', 'again'],
      ]);
    });

    it('removes U+0000 from strings, which PostgreSQL cannot store, the same way everywhere', async () => {
      await load(
        'nul',
        chunkOf('nul', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, s: { type: 'string' }, j: { type: 'object' } }, ['id']),
          record('t', { id: 1, s: 'a\u0000b', j: { 'k\u0000': 'v\u0000w' } }),
          state(1),
        ]),
      );
      expect(await text('nul', 't', ['s'])).toEqual([['ab']]);
      expect(await harness.json(destination, 'nul', 't', 'j', 'id')).toEqual([{ k: 'vw' }]);
    });

    it('takes what real Singer taps send: draft-4 bounds, money multipleOf, date-times without offset or with a space, time without offset, ACTIVATE_VERSION before SCHEMA (#14)', async () => {
      const [outcome] = await load(
        'singer',
        chunkOf('singer', 'r1', 0, [
          { type: 'ACTIVATE_VERSION', stream: 't', version: 7 },
          schema(
            't',
            {
              id: { type: 'integer', minimum: 0, maximum: 2147483647, exclusiveMaximum: false },
              small: { type: 'integer', maximum: 100, exclusiveMaximum: true },
              price: { type: 'number', multipleOf: 0.01 },
              rate: { type: 'number', multipleOf: 0.0001 },
              at: { type: 'string', format: 'date-time' },
              clock: { type: 'string', format: 'time' },
            },
            ['id'],
          ),
          record('t', {
            id: 1,
            small: 99,
            price: 605155.71,
            rate: 965.3177,
            at: '2015-09-01T16:34:02',
            clock: '23:00:15',
          }),
          record('t', {
            id: 2,
            small: 0,
            price: 0.07,
            rate: 1.0001,
            at: '2019-02-01 15:12:45',
            clock: '23:00:15.5',
          }),
          state(1),
        ]),
      );
      expect(outcome?.records).toBe(2);
      const instants = await harness.epochMs(destination, 'singer', 't', 'at', 'id');
      expect(instants).toEqual([Date.parse('2015-09-01T16:34:02Z'), Date.parse('2019-02-01T15:12:45Z')]);
      expect(await text('singer', 't', ['price', 'clock'])).toEqual([
        ['605155.71', '23:00:15'],
        ['0.07', '23:00:15.5'],
      ]);
      const refused = await load(
        'singer-key',
        chunkOf('singer-key', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, a: { type: 'string' } }, ['id']),
          record('t', { a: 'x' }),
          state(1),
        ]),
      ).catch((caught: unknown) => caught);
      expect((refused as Error).message).toMatch(/line 2: RECORD for stream "t" lacks its key property "id"/);
      const money = await load(
        'singer-money',
        chunkOf('singer-money', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, p: { type: 'number', multipleOf: 0.01 } }, ['id']),
          record('t', { id: 1, p: 1.005 }),
          state(1),
        ]),
      ).catch((caught: unknown) => caught);
      expect((money as Error).message).toMatch(/\/p must be a multiple of 0\.01/);
    });

    it("loads a real tap's message features exactly: $ref, anyOf, singer.decimal, version, time_extracted, bookmark_properties, unicode keys, a currently_syncing STATE over 1 MB (#14)", async () => {
      const lines = readFileSync(join(repoRoot, 'test', 'fixtures', 'singer', 'tap-features.jsonl'), 'utf8');
      const partitions = Array.from({ length: 120_000 }, (_, index) => `p${String(index).padStart(6, '0')}`);
      const bigState = {
        currently_syncing: null,
        bookmarks: { orders: { version: 1709251200000 } },
        partitions,
      };
      const [outcome] = await load(
        'features',
        chunkOf('features', 'r1', 0, `${lines}${JSON.stringify({ type: 'STATE', value: bigState })}\n`),
      );
      expect(outcome).toMatchObject({ status: 'loaded', records: 2, bookmark: bigState });
      expect(await harness.columns(destination, 'features', 'orders')).toEqual(
        expect.arrayContaining(['id', 'total', 'discount', 'placed', '_____na_ve']),
      );
      expect(await text('features', 'orders', ['_____na_ve'])).toEqual([['café ☕'], [null]]);
      expect(await text('features', 'orders', ['id', 'total', 'discount', '_tributary_version'])).toEqual([
        ['1', '12345678901234567890.123456789', '0.5', '1709251200000'],
        ['2', null, null, '1709251200000'],
      ]);
      expect(await harness.epochMs(destination, 'features', 'orders', 'placed', 'id')).toEqual([
        Date.parse('2024-02-29T23:59:59Z'),
        Date.parse('2024-03-01T00:00:00Z'),
      ]);
      const [entry] = await destination.ledger('features');
      expect(entry?.bookmark).toEqual(bigState);
    });

    it('keeps properties the schema does not declare in _tributary_extra, so nothing a tap sends vanishes (#14.6)', async () => {
      await load(
        'extra',
        chunkOf('extra', 'r1', 0, [
          schema('t', { id: { type: 'integer' }, name: { type: 'string' } }, ['id']),
          record('t', { id: 1, name: 'a', color: 'red', size: { w: 2 } }),
          record('t', { id: 2, name: 'b' }),
          { type: 'SCHEMA', stream: 'loose', schema: { type: 'object' }, key_properties: [] },
          record('loose', { anything: 1, at: 'all' }),
          state(1),
        ]),
      );
      expect(await harness.json(destination, 'extra', 't', '_tributary_extra', 'id')).toEqual([
        { color: 'red', size: { w: 2 } },
        null,
      ]);
      expect(await text('extra', 't', ['id', 'name'])).toEqual([
        ['1', 'a'],
        ['2', 'b'],
      ]);
      expect(await harness.json(destination, 'extra', 'loose', '_tributary_extra', '1')).toEqual([
        { anything: 1, at: 'all' },
      ]);
    });

    it('with undeclared_properties: drop, loads only what the schema declares and makes no _tributary_extra column', async () => {
      const dropping: Destination = {
        description: destination.description,
        undeclaredProperties: 'drop',
        begin: (tap) => destination.begin(tap),
        ledger: (tap) => destination.ledger(tap),
        close: async () => {},
      };
      await loadChunks(
        'dropextra',
        [
          chunkOf('dropextra', 'r1', 0, [
            schema('t', { id: { type: 'integer' }, name: { type: 'string' } }, ['id']),
            record('t', { id: 1, name: 'a', color: 'red' }),
            state(1),
          ]),
        ],
        { destination: dropping },
      );
      expect(await text('dropextra', 't', ['id', 'name'])).toEqual([['1', 'a']]);
      expect(await harness.columns(destination, 'dropextra', 't')).not.toContain('_tributary_extra');
    });

    it('stores nulls and missing properties as NULL', async () => {
      await load(
        'nulls',
        chunkOf('nulls', 'r1', 0, [
          schema('t', { ...idName, n: { type: ['null', 'number'] }, doc: { type: ['null', 'object'] } }, [
            'id',
          ]),
          record('t', { id: 1, name: null, n: null, doc: null }),
          record('t', { id: 2 }),
          state(1),
        ]),
      );
      expect(await text('nulls', 't', ['id', 'name', 'n', 'doc'])).toEqual([
        ['1', null, null, null],
        ['2', null, null, null],
      ]);
    });

    it('loads an empty chunk (schemas and a STATE only): a ledger row, no rows', async () => {
      const [outcome] = await load(
        'empty',
        chunkOf('empty', 'r1', 0, [schema('t', idName, ['id']), state({ unchanged: true })]),
      );
      expect(outcome).toMatchObject({ status: 'loaded', records: 0, bookmark: { unchanged: true } });
      expect(await text('empty', 't', ['id'])).toEqual([]);
      expect(await destination.ledger('empty')).toHaveLength(1);
    });

    it('skips a chunk already in the ledger: a replay or redelivery loads nothing twice', async () => {
      const chunk = chunkOf('skip', 'r1', 0, [
        schema('events', idName),
        record('events', { id: 1, name: 'once' }),
        state(1),
      ]);
      await load('skip', chunk);
      const [again] = await load('skip', chunk);
      expect(again).toMatchObject({ status: 'skipped', bookmark: 1 });
      expect(await text('skip', 'events', ['id', 'name'])).toEqual([['1', 'once']]);
    });

    it('refuses a chunk whose predecessor is not loaded, within a run and across runs', async () => {
      const s = schema('t', idName, ['id']);
      await expect(
        load('gap', chunkOf('gap', 'r1', 1, [s, record('t', { id: 2 }), state(2)])),
      ).rejects.toThrow(ChunkGapError);
      await expect(
        load('gap', chunkOf('gap', 'r2', 0, [s, record('t', { id: 3 }), state(3)], { run: 'r1', seq: 1 })),
      ).rejects.toThrow(/chunk r2\/000000 cannot load before chunk r1\/000001/);
      expect(await destination.ledger('gap')).toEqual([]);
      await load(
        'gap',
        chunkOf('gap', 'r1', 0, [s, record('t', { id: 1 }), state(1)]),
        chunkOf('gap', 'r1', 1, [s, record('t', { id: 2 }), state(2)]),
        chunkOf('gap', 'r2', 0, [s, record('t', { id: 3 }), state(3)], { run: 'r1', seq: 1 }),
      );
      expect(await text('gap', 't', ['id'])).toEqual([['1'], ['2'], ['3']]);
    });

    it('commits nothing of a chunk with a record that breaks its schema, naming line, stream and key', async () => {
      const chunk = chunkOf('invalid', 'r1', 0, [
        schema('t', { id: { type: 'integer' }, email: { type: 'string' } }, ['id']),
        record('t', { id: 1, email: 'a@x' }),
        record('t', { id: 2, email: 42 }),
        state(1),
      ]);
      const error = await load('invalid', chunk).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RecordValidationError);
      expect((error as Error).message).toBe(
        'test:r1/0: line 3: RECORD for stream "t" (key id=2) does not match its schema: /email must be string',
      );
      expect(await destination.ledger('invalid')).toEqual([]);
    });

    for (const fault of ['mid-load', 'before-commit'] as const) {
      it(`a crash ${fault === 'mid-load' ? 'while loading' : 'between load and commit'} commits nothing; the retry loads once`, async () => {
        const faulty = new FaultyDestination(destination);
        const tap = `crash_${fault.replace('-', '_')}`;
        const chunk = chunkOf(tap, 'r1', 0, [
          schema('t', idName, ['id']),
          record('t', { id: 1 }),
          record('t', { id: 2 }),
          state(1),
        ]);
        faulty.failNext(fault);
        await expect(loadChunks(tap, [chunk], { destination: faulty })).rejects.toThrow(InjectedFault);
        expect(await destination.ledger(tap)).toEqual([]);
        await loadChunks(tap, [chunk], { destination: faulty });
        expect(await text(tap, 't', ['id'])).toEqual([['1'], ['2']]);
      });
    }

    it('loads a 100,000-record chunk', async () => {
      const messages: object[] = [
        schema(
          'big',
          { id: { type: 'integer' }, name: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
          ['id'],
        ),
      ];
      for (let id = 0; id < 100_000; id += 1)
        messages.push(record('big', { id, name: `n${id}`, at: '2024-01-01T00:00:00Z' }));
      messages.push(state({ done: true }));
      const [outcome] = await load('hundredk', chunkOf('hundredk', 'r1', 0, messages));
      expect(outcome?.counts.big?.inserted).toBe(100_000);
      const [[count, distinct]] = (await harness.text(
        destination,
        'hundredk',
        'big',
        ['count(*)', 'count(DISTINCT id)'],
        '1',
      )) as [[string, string]];
      expect([count, distinct]).toEqual(['100000', '100000']);
    });
  });
}

/** A double's shortest text written to `scale` places, as both warehouses print DECIMAL(38, scale). */
function decimalText(value: number, scale: number): string {
  const [whole = '0', fraction = ''] = String(Math.abs(value)).split('.');
  const sign = value < 0 ? '-' : '';
  return scale === 0 ? `${sign}${whole}` : `${sign}${whole}.${fraction.padEnd(scale, '0')}`;
}
