import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BOOKMARK_BYTES, ProtocolError, parseMessages } from '../../../lib/protocol/index.ts';
import { lines, parseAll, plain } from '../../helpers/messages.ts';
import { fixturesDir } from '../../helpers/paths.ts';

const dir = join(fixturesDir, 'protocol');
const schema = { type: 'SCHEMA', stream: 's', schema: { type: 'object' }, key_properties: [] };

describe('parseMessages: golden files', () => {
  for (const name of [
    'singer-basic.jsonl',
    'stitch-basic.stitch',
    'stitch-key-fields.stitch',
    'stitch-transit.stitch',
  ]) {
    it(`normalises ${name}`, async () => {
      const parsed = await parseAll(readFileSync(join(dir, name)), name);
      const expected = JSON.parse(readFileSync(join(dir, name.replace(/\.\w+$/, '.expected.json')), 'utf8'));
      expect(parsed.map(({ line, message }) => ({ line, message: plain(message) }))).toEqual(expected);
    });
  }

  const errors = JSON.parse(readFileSync(join(dir, 'errors.expected.json'), 'utf8')) as Record<
    string,
    { line: number; contains: string }
  >;
  for (const [name, expected] of Object.entries(errors)) {
    it(`rejects ${name} naming line ${expected.line}`, async () => {
      const error = await parseAll(readFileSync(join(dir, name)), name).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).line).toBe(expected.line);
      expect((error as ProtocolError).message).toContain(`${name}: line ${expected.line}: `);
      expect((error as ProtocolError).message).toContain(expected.contains);
    });
  }
});

describe('parseMessages: line handling', () => {
  it('accepts CRLF endings, a UTF-8 BOM, blank lines and a last line without newline', async () => {
    const text = `\uFEFF${JSON.stringify(schema)}\r\n\r\n{"type":"RECORD","stream":"s","record":{"name":"é"}}\r\n{"type":"STATE","value":1}`;
    const parsed = await parseAll(Buffer.from(text, 'utf8'));
    expect(parsed.map((p) => p.line)).toEqual([1, 3, 4]);
    expect(plain(parsed[1]?.message as never)).toEqual({
      type: 'RECORD',
      stream: 's',
      record: { name: 'é' },
    });
    expect(parsed[2]?.message).toEqual({ type: 'STATE', value: 1 });
  });

  it('reassembles lines and multi-byte characters split across reads', async () => {
    const text = lines(schema, { type: 'RECORD', stream: 's', record: { name: 'naïve 🚀 ✓' } });
    const bytes = Buffer.from(text);
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    const parsed: unknown[] = [];
    for await (const { message } of parseMessages(Readable.from(pieces), { source: 'bytes' }))
      parsed.push(plain(message));
    expect(parsed[1]).toEqual({ type: 'RECORD', stream: 's', record: { name: 'naïve 🚀 ✓' } });
  });

  it('keeps long decimals and big integers exact, and skips the lossless path for ordinary numbers', async () => {
    const text = `${JSON.stringify(schema)}\n{"type":"RECORD","stream":"s","record":{"d":0.12345678901234567890123,"n":-18446744073709551617,"small":1.5}}\n{"type":"RECORD","stream":"s","record":{"small":1.5,"id":"abcdefghijklmnopqrstuvwxyz"}}\n`;
    const [, big, ordinary] = await parseAll(text);
    expect(plain(big?.message as never)).toMatchObject({
      record: { d: '0.12345678901234567890123', n: '-18446744073709551617', small: 1.5 },
    });
    expect(ordinary?.message).not.toHaveProperty('exact');
  });

  it("accepts a Singer STATE over 1 MB: the limit is the Stitch Streams format's (#14.12)", async () => {
    const big = await parseAll(lines(schema, { type: 'STATE', value: 'x'.repeat(MAX_BOOKMARK_BYTES + 10) }));
    expect(big).toHaveLength(2);
    const framed = await parseAll(
      `stitchstream/0.1\nContent-Type: jsonline\n--\n${JSON.stringify({ type: 'STATE', value: 'x'.repeat(MAX_BOOKMARK_BYTES + 10) })}\n`,
    ).catch((caught: unknown) => caught);
    expect(framed).toBeInstanceOf(ProtocolError);
  });

  it('rejects a Stitch bookmark over 1 MB and accepts one at the limit', async () => {
    const padding = (size: number) => 'x'.repeat(size - 2); // JSON string quotes add 2 bytes
    const atLimit = await parseAll(lines({ type: 'STATE', value: padding(MAX_BOOKMARK_BYTES) }));
    expect(atLimit).toHaveLength(1);
    const error = await parseAll(
      lines(schema, { type: 'BOOKMARK', value: padding(MAX_BOOKMARK_BYTES + 1) }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).line).toBe(2);
    expect((error as Error).message).toMatch(
      /BOOKMARK: the bookmark \(STATE value\) is 1048577 bytes; a bookmark may be at most 1048576 bytes/,
    );
  });

  it('refuses a SCHEMA whose records would not be objects, naming the stream (#14.6)', async () => {
    await expect(
      parseAll(lines({ type: 'SCHEMA', stream: 's', schema: { type: 'string' }, key_properties: [] })),
    ).rejects.toThrow(
      /line 1: SCHEMA for stream "s": a stream's records are objects, but its schema has type "string"/,
    );
    expect(
      await parseAll(
        lines({ type: 'SCHEMA', stream: 's', schema: { type: ['null', 'object'] }, key_properties: [] }),
      ),
    ).toHaveLength(1);
  });

  it('rejects non-object lines and wrong field types with what was received', async () => {
    await expect(parseAll('[1,2]\n')).rejects.toThrow(
      'line 1: expected a JSON object with a "type", received [1,2]',
    );
    await expect(parseAll(lines({ type: 'SCHEMA', stream: 's', schema: 'x' }))).rejects.toThrow(
      '"schema" must be a JSON Schema object, received "x"',
    );
    await expect(parseAll(lines({ ...schema, key_properties: 'id' }))).rejects.toThrow(
      '"key_properties" must be a list of property names, received "id"',
    );
    await expect(parseAll(lines(schema, { type: 'ACTIVATE_VERSION', stream: 's' }))).rejects.toThrow(
      'line 2: ACTIVATE_VERSION for stream "s": "version" must be a number, received nothing',
    );
  });

  it('streams: yields the first message before the input ends', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slowInput() {
      yield `${JSON.stringify(schema)}\n`;
      await gate;
      yield '{"type":"STATE","value":2}\n';
    }
    const iterator = parseMessages(slowInput(), { source: 'slow' });
    const first = await iterator.next();
    expect(first.value?.message.type).toBe('SCHEMA');
    release();
    const second = await iterator.next();
    expect(second.value?.message).toEqual({ type: 'STATE', value: 2 });
  });
});

describe('mayHoldInexactNumber', () => {
  it('finds every run of 16 digits and dots wherever it starts, and nothing shorter', async () => {
    const { mayHoldInexactNumber } = await import('../../../lib/protocol/exact-json.ts');
    for (let offset = 0; offset < 40; offset += 1) {
      const prefix = 'x'.repeat(offset);
      expect(mayHoldInexactNumber(`${prefix}:1234567890123456,`)).toBe(true);
      expect(mayHoldInexactNumber(`${prefix}:1234567.890123456}`)).toBe(true);
      expect(mayHoldInexactNumber(`${prefix}:123456789012345,"a":1.5`)).toBe(false);
    }
  });

  it('decides as the plain rule does: a run of 16 or more digits and dots where a number may start (property)', async () => {
    const { mayHoldInexactNumber } = await import('../../../lib/protocol/exact-json.ts');
    const rule = (line: string) =>
      [...line.matchAll(/[\d.]{16,}/g)].some(({ index }) => {
        let before = index - 1;
        if (line[before] === '-') before -= 1;
        return before < 0 || ':,[ \t\n\r'.includes(line[before] as string);
      });
    // Runs of every length, hex-like mixes of digits and letters, and what may stand before a number.
    const piece = fc.oneof(
      fc.stringMatching(/^[0-9.]{1,40}$/),
      fc.stringMatching(/^[0-9a-f]{1,40}$/),
      fc.constantFrom(':', ',', '[', ' ', '-', '"', 'x', '\t', ':-'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const line = pieces.join('');
        expect(mayHoldInexactNumber(line)).toBe(rule(line));
      }),
      { numRuns: 20_000 },
    );
  });

  it('flags every JSON text holding a number a double cannot, wherever the number stands (property)', async () => {
    const { mayHoldInexactNumber, parseExact } = await import('../../../lib/protocol/exact-json.ts');
    // Long numbers in every place JSON allows one: after ':' ',' '[', signed, with whitespace around.
    const long = fc
      .tuple(
        fc.constantFrom('', '-'),
        fc.stringMatching(/^[1-9][0-9]{15,24}$/),
        fc.constantFrom('', '.5', '.000000000000000001', 'e3'),
      )
      .map(([sign, digits, tail]) => `${sign}${digits}${tail}`);
    const space = fc.constantFrom('', ' ', '\t', '\n', '\r\n  ');
    const value: fc.Arbitrary<string> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        long,
        fc.integer().map(String),
        fc.constantFrom(
          '"0716d9708d321ffb6a00818614779e779925365c"',
          '"x1234567890123456789"',
          'null',
          'true',
        ),
        fc
          .array(fc.tuple(space, tie('value') as fc.Arbitrary<string>, space), { maxLength: 4 })
          .map((items) => `[${items.map(([a, v, b]) => `${a}${v}${b}`).join(',')}]`),
        fc
          .array(fc.tuple(fc.constantFrom('a', 'sha', 'n1'), space, tie('value') as fc.Arbitrary<string>), {
            maxLength: 4,
          })
          .map((entries) => `{${entries.map(([k, s, v], i) => `"${k}${i}":${s}${v}`).join(',')}}`),
      ),
    })).value;
    fc.assert(
      fc.property(value, (text) => {
        // parseExact says whether some number in the text is not safe as a double.
        if (parseExact(text) !== undefined) expect(mayHoldInexactNumber(text), text).toBe(true);
      }),
      { numRuns: 2_000 },
    );
    // A commit sha's digits are text, not a number: no lossless re-read for it.
    expect(
      mayHoldInexactNumber('{"sha":"00818614779e7799253651234567890123","n":"12345678901234567a"}'),
    ).toBe(false);
  });
});
